package box

import (
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/spec"
)

// withUlimits: --ulimit name=soft[:hard].
func withUlimits(c *Container) SpecOpt {
	return func(s *specs.Spec) error {
		for _, u := range c.Opts.Ulimits {
			name, val, ok := strings.Cut(u, "=")
			softS, hardS, hasHard := strings.Cut(val, ":")
			if !hasHard {
				hardS = softS
			}
			soft, err1 := strconv.ParseUint(softS, 10, 64)
			hard, err2 := strconv.ParseUint(hardS, 10, 64)
			typ := "RLIMIT_" + strings.ToUpper(name)
			if _, err := spec.RlimitValue(typ); !ok || err != nil || err1 != nil || err2 != nil || soft > hard {
				return fmt.Errorf("invalid --ulimit %q: want NAME=SOFT[:HARD] with soft <= hard (e.g. nofile=1024:2048)", u)
			}
			rl := specs.POSIXRlimit{Type: typ, Soft: soft, Hard: hard}
			replaced := false
			for i := range s.Process.Rlimits {
				if s.Process.Rlimits[i].Type == typ {
					s.Process.Rlimits[i], replaced = rl, true
				}
			}
			if !replaced {
				s.Process.Rlimits = append(s.Process.Rlimits, rl)
			}
		}
		return nil
	}
}

// withResources: -m, --cpus (a CFS quota per 100 ms), --cpu-shares,
// --cpuset-cpus, --pids-limit. Whether the host can give them is the
// runtime's check when it makes the cgroup.
func withResources(c *Container) SpecOpt {
	return func(s *specs.Spec) error {
		r, o := s.Linux.Resources, c.Opts
		if o.Memory != 0 {
			if o.Memory < 6*1024*1024 {
				return fmt.Errorf("minimum memory limit allowed is 6MB")
			}
			r.Memory = &specs.LinuxMemory{Limit: &o.Memory}
		}
		if o.CPUs < 0 || o.CPUs > float64(numCPU()) {
			return fmt.Errorf("range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", numCPU(), numCPU())
		}
		if o.CPUs > 0 || o.CPUShares > 0 || o.CpusetCPUs != "" {
			r.CPU = &specs.LinuxCPU{Cpus: o.CpusetCPUs}
			if o.CPUShares > 0 {
				r.CPU.Shares = &o.CPUShares
			}
			if o.CPUs > 0 {
				period := uint64(100000)
				quota := int64(o.CPUs * float64(period))
				r.CPU.Period, r.CPU.Quota = &period, &quota
			}
		}
		if o.PidsLimit != 0 {
			r.Pids = &specs.LinuxPids{Limit: &o.PidsLimit}
		}
		return nil
	}
}

// nofile is RLIMIT_NOFILE as Docker's containers get it from the daemon:
// soft and hard at the daemon's hard limit (hk's own, here).
func nofile() specs.POSIXRlimit {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) != nil {
		rl.Max = 1024
	}
	return specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: rl.Max, Hard: rl.Max}
}

// InitPaths are where catatonit (the small init podman's --init uses,
// Debian's package of that name) is looked for.
var InitPaths = []string{"/usr/bin/catatonit", "/usr/libexec/podman/catatonit"}

// withInit: --init puts catatonit in front of the command as PID 1, to
// reap zombies and pass signals on (Docker's docker-init, podman's
// catatonit), bind-mounted read-only from the host on /dev/init (a tmpfs
// of the container's own, so it works with --read-only too).
func withInit(c *Container) SpecOpt {
	return func(s *specs.Spec) error {
		if !c.Opts.Init {
			return nil
		}
		path := ""
		for _, p := range InitPaths {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
		if path == "" {
			return fmt.Errorf("--init needs catatonit, not found at %s (apt-get install catatonit)", strings.Join(InitPaths, " or "))
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/dev/init", Type: "bind", Source: path, Options: []string{"bind", "ro", "nosuid", "nodev"}})
		s.Process.Args = append([]string{"/dev/init", "--"}, s.Process.Args...)
		return nil
	}
}

// withCgroupParent puts the container's cgroup at PARENT/ID in every
// hierarchy: /hk/ID unless --cgroup-parent says otherwise (Docker's
// cgroupfs layout).
func withCgroupParent(c *Container) SpecOpt {
	return func(s *specs.Spec) error {
		parent := c.Opts.CgroupParent
		if parent == "" {
			parent = "/hk"
		}
		p := path.Join("/", parent, c.ID)
		if strings.Contains(parent, "..") {
			return fmt.Errorf("invalid --cgroup-parent %q", parent)
		}
		s.Linux.CgroupsPath = p
		return nil
	}
}

func numCPU() int {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) == nil {
		return set.Count()
	}
	return 1
}
