package box

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/hknet"
	"hako/internal/spec"
)

// SpecOpt changes the spec being built (containerd's oci.SpecOpts).
type SpecOpt func(*specs.Spec) error

// dockerSeccomp is moby's default profile as the engine hands it to the
// runtime on amd64 for the default capabilities (the same file
// internal/seccomp's tests compile).
//
//go:embed seccomp-default.json
var dockerSeccomp []byte

// DefaultCaps are Docker's default capabilities (moby
// oci/caps/defaults.go).
var DefaultCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}

// Args resolves the process's argv by Docker's rules: --entrypoint
// replaces the image's Entrypoint and drops its Cmd; arguments after the
// image replace Cmd.
func Args(img ImageConfig, o Options) ([]string, error) {
	ep, cmd := img.Entrypoint, img.Cmd
	if o.Entrypoint != nil {
		ep, cmd = nil, nil
		if *o.Entrypoint != "" {
			ep = []string{*o.Entrypoint}
		}
	}
	if len(o.Cmd) > 0 {
		cmd = o.Cmd
	}
	args := append(append([]string{}, ep...), cmd...)
	if len(args) == 0 {
		return nil, errors.New("no command specified: the image has no Entrypoint or Cmd, give one after the image name")
	}
	return args, nil
}

// Env merges the environment as Docker does: PATH (when the image has
// none), HOSTNAME, TERM for a terminal, the image's, then the user's
// (-e NAME alone takes NAME from hk's own environment); a later value of
// a name replaces the earlier one in place.
func Env(img ImageConfig, o Options, hostname string, lookup func(string) (string, bool)) []string {
	var env []string
	idx := map[string]int{}
	set := func(kv string) {
		k, _, ok := strings.Cut(kv, "=")
		if !ok {
			v, found := lookup(kv)
			if !found {
				return
			}
			kv = k + "=" + v
		}
		if i, ok := idx[k]; ok {
			env[i] = kv
			return
		}
		idx[k] = len(env)
		env = append(env, kv)
	}
	set("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	set("HOSTNAME=" + hostname)
	if o.TTY {
		set("TERM=xterm")
	}
	for _, kv := range img.Env {
		set(kv)
	}
	for _, kv := range o.Env {
		set(kv)
	}
	return env
}

// Build makes the container's spec: Docker's defaults, then the image's
// config and the flags. rootfs is the mounted root (for the user lookup),
// dir the container's directory (hosts, hostname, resolv.conf).
func Build(c *Container, rootfs, dir string, opts ...SpecOpt) (*specs.Spec, error) {
	s := spec.Default()
	s.Root = &specs.Root{Path: rootfs, Readonly: c.Opts.ReadOnly}
	s.Hostname = c.Hostname()
	s.Process.Terminal = c.Opts.TTY
	s.Process.Args = c.Args
	s.Process.NoNewPrivileges = false
	s.Process.Env = Env(c.Config, c.Opts, s.Hostname, os.LookupEnv)
	s.Process.Rlimits = []specs.POSIXRlimit{nofile()}
	s.Annotations = map[string]string{"org.hako.hk.name": c.Name, "org.hako.hk.image": c.Image}
	s.Linux.Resources = &specs.LinuxResources{Devices: s.Linux.Resources.Devices}
	all := []SpecOpt{withUser(c, rootfs), withCwd(c, rootfs), withCaps(c), withSecurityOpts(c),
		withNetwork(c, dir), withVolumes(c), withTmpfs(c), withDevices(c), withUlimits(c), withResources(c), withInit(c)}
	if !c.Rootless {
		all = append(all, func(s *specs.Spec) error { s.Linux.CgroupsPath = "/hk/" + c.ID; return nil })
	}
	for _, o := range append(all, opts...) {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func withUser(c *Container, rootfs string) SpecOpt {
	return func(s *specs.Spec) error {
		u := c.Opts.User
		if u == "" {
			u = c.Config.User
		}
		eu, err := ResolveUserIn(rootfs, u)
		if err != nil {
			return err
		}
		s.Process.User = specs.User{UID: eu.UID, GID: eu.GID, AdditionalGids: eu.Groups}
		if !hasEnv(s.Process.Env, "HOME") {
			s.Process.Env = append(s.Process.Env, "HOME="+eu.Home)
		}
		return nil
	}
}

func hasEnv(env []string, k string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, k+"=") {
			return true
		}
	}
	return false
}

// withCwd sets -w (else the image's WorkingDir) and creates it in the
// container's layer when missing, as Docker does.
func withCwd(c *Container, rootfs string) SpecOpt {
	return func(s *specs.Spec) error {
		cwd := c.Opts.Workdir
		if cwd == "" {
			cwd = c.Config.WorkingDir
		}
		if cwd == "" {
			cwd = "/"
		}
		if !filepath.IsAbs(cwd) {
			return fmt.Errorf("the working directory %q is invalid: it needs to be an absolute path", cwd)
		}
		s.Process.Cwd = filepath.Clean(cwd)
		return mkdirIn(rootfs, s.Process.Cwd)
	}
}

// withCaps: Docker's default set, then --cap-drop and --cap-add ("ALL"
// for every one). A non-root process gets them only in its bounding set,
// as Docker gives them (an exec'd setuid binary may still use them).
func withCaps(c *Container) SpecOpt {
	return func(s *specs.Spec) error {
		caps, err := capSet(c.Opts.CapAdd, c.Opts.CapDrop)
		if err != nil {
			return err
		}
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps}
		if s.Process.User.UID == 0 {
			s.Process.Capabilities.Effective = caps
			s.Process.Capabilities.Permitted = caps
		}
		return nil
	}
}

func capSet(add, drop []string) ([]string, error) {
	norm := func(n string) (string, error) {
		n = strings.ToUpper(n)
		if n == "ALL" {
			return n, nil
		}
		if !strings.HasPrefix(n, "CAP_") {
			n = "CAP_" + n
		}
		if _, err := spec.CapValue(n); err != nil {
			return "", fmt.Errorf("invalid capability %q", n)
		}
		return n, nil
	}
	set := map[string]bool{}
	for _, c := range DefaultCaps {
		set[c] = true
	}
	for _, d := range drop {
		n, err := norm(d)
		if err != nil {
			return nil, err
		}
		if n == "ALL" {
			set = map[string]bool{}
		}
		delete(set, n)
	}
	for _, a := range add {
		n, err := norm(a)
		if err != nil {
			return nil, err
		}
		if n == "ALL" {
			for _, name := range spec.CapNames() {
				set[name] = true
			}
			continue
		}
		set[n] = true
	}
	var out []string
	for _, name := range spec.CapNames() {
		if set[name] {
			out = append(out, name)
		}
	}
	return out, nil
}

// withSecurityOpts: Docker's default seccomp profile unless
// seccomp=unconfined or seccomp=FILE; no-new-privileges.
func withSecurityOpts(c *Container) SpecOpt {
	return func(s *specs.Spec) error {
		profile := dockerSeccomp
		for _, o := range c.Opts.SecurityOpt {
			k, v, _ := strings.Cut(o, "=")
			if k == "seccomp" && strings.Contains(o, ":") && !strings.Contains(o, "=") {
				k, v, _ = strings.Cut(o, ":")
			}
			switch {
			case o == "no-new-privileges" || k == "no-new-privileges" && (v == "true" || v == ""):
				s.Process.NoNewPrivileges = true
			case k == "no-new-privileges" && v == "false":
			case k == "seccomp" && v == "unconfined":
				profile = nil
			case k == "seccomp":
				b, err := os.ReadFile(v)
				if err != nil {
					return fmt.Errorf("opening seccomp profile (%s) failed: %w", v, err)
				}
				profile = b
			default:
				return fmt.Errorf("invalid --security-opt %q: hk knows no-new-privileges and seccomp=unconfined|FILE", o)
			}
		}
		if profile == nil {
			return nil
		}
		sc, err := parseSeccomp(profile)
		if err != nil {
			return err
		}
		s.Linux.Seccomp = sc
		return nil
	}
}

// parseSeccomp reads a profile in the OCI form, or in Docker's (the same
// fields plus archMap and per-rule includes/excludes): a Docker rule with
// conditions is left out (hk does not evaluate them), so such a profile
// is at most stricter than Docker would make it, never looser.
func parseSeccomp(b []byte) (*specs.LinuxSeccomp, error) {
	var raw struct {
		specs.LinuxSeccomp
		ArchMap []struct {
			Arch specs.Arch   `json:"architecture"`
			Sub  []specs.Arch `json:"subArchitectures"`
		} `json:"archMap"`
		Syscalls []struct {
			specs.LinuxSyscall
			Includes json.RawMessage `json:"includes"`
			Excludes json.RawMessage `json:"excludes"`
		} `json:"syscalls"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("decoding seccomp profile: %w", err)
	}
	sc := raw.LinuxSeccomp
	sc.Syscalls = nil
	for _, r := range raw.Syscalls {
		if isEmptyCond(r.Includes) && isEmptyCond(r.Excludes) {
			sc.Syscalls = append(sc.Syscalls, r.LinuxSyscall)
		}
	}
	if len(sc.Architectures) == 0 {
		for _, a := range raw.ArchMap {
			if a.Arch == specs.ArchX86_64 {
				sc.Architectures = append([]specs.Arch{a.Arch}, a.Sub...)
			}
		}
	}
	return &sc, nil
}

func isEmptyCond(m json.RawMessage) bool {
	s := strings.TrimSpace(string(m))
	return s == "" || s == "null" || s == "{}"
}

// withNetwork: none is a new network namespace with only lo; host shares
// the host's, and copies its /etc/hosts and /etc/resolv.conf; a bridge
// network (or container:NAME) runs the container in the namespace at
// c.Netns, which hk made and wired (hknet.Attach writes /etc/hosts into
// the file made here). Each container gets its own /etc/hostname,
// /etc/hosts and /etc/resolv.conf (files in its dir, bind-mounted as
// Docker does).
func withNetwork(c *Container, dir string) SpecOpt {
	return func(s *specs.Spec) error {
		hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
		resolv := "# hk: --network none, no name servers\n"
		switch mode := c.Opts.Network; {
		case mode == "" || mode == "none":
		case mode == "host":
			s.Linux.Namespaces = without(s.Linux.Namespaces, specs.NetworkNamespace)
			if b, err := os.ReadFile("/etc/hosts"); err == nil {
				hosts = string(b)
			}
			if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
				resolv = string(b)
			}
			if c.Rootless {
				// sysfs needs a network namespace owned by the
				// namespace that mounts it: bind the host's.
				for i, m := range s.Mounts {
					if m.Destination == "/sys" {
						s.Mounts[i] = specs.Mount{Destination: "/sys", Type: "none", Source: "/sys",
							Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
					}
				}
			}
		default:
			if c.Netns == "" {
				return fmt.Errorf("network %q: no network namespace was made for it", mode)
			}
			s.Linux.Namespaces = append(without(s.Linux.Namespaces, specs.NetworkNamespace),
				specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: c.Netns})
			conf, _, err := hknet.ResolvConf()
			if err != nil {
				return err
			}
			resolv = string(conf)
		}
		files := map[string]string{"hostname": s.Hostname + "\n", "hosts": hosts, "resolv.conf": resolv}
		for _, name := range []string{"hostname", "hosts", "resolv.conf"} {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(files[name]), 0o644); err != nil {
				return err
			}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/etc/" + name, Type: "bind", Source: p,
				Options: []string{"rbind", "rprivate"}})
		}
		return nil
	}
}

func without(nss []specs.LinuxNamespace, t specs.LinuxNamespaceType) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, ns := range nss {
		if ns.Type != t {
			out = append(out, ns)
		}
	}
	return out
}

// withVolumes: -v HOST:CTR[:ro|rw], bind mounts of existing host paths.
func withVolumes(c *Container) SpecOpt {
	return func(s *specs.Spec) error {
		for _, v := range c.Opts.Volumes {
			f := strings.Split(v, ":")
			if len(f) < 2 || len(f) > 3 || f[0] == "" || f[1] == "" {
				return fmt.Errorf("invalid volume specification %q: want HOST:CONTAINER[:ro] (named volumes are not supported yet)", v)
			}
			if !filepath.IsAbs(f[0]) || !filepath.IsAbs(f[1]) {
				return fmt.Errorf("invalid volume specification %q: both paths must be absolute", v)
			}
			if _, err := os.Stat(f[0]); err != nil {
				return fmt.Errorf("invalid volume specification %q: bind source path does not exist: %s", v, f[0])
			}
			opts := []string{"rbind", "rprivate"}
			if len(f) == 3 {
				switch f[2] {
				case "ro":
					opts = append(opts, "ro")
				case "rw":
				default:
					return fmt.Errorf("invalid volume specification %q: mode %q (want ro or rw)", v, f[2])
				}
			}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: filepath.Clean(f[1]), Type: "bind", Source: f[0], Options: opts})
		}
		return nil
	}
}

// withTmpfs: --tmpfs PATH[:OPTS], noexec,nosuid,nodev unless OPTS say.
func withTmpfs(c *Container) SpecOpt {
	return func(s *specs.Spec) error {
		for _, t := range c.Opts.Tmpfs {
			p, o, _ := strings.Cut(t, ":")
			if !filepath.IsAbs(p) {
				return fmt.Errorf("invalid --tmpfs %q: the path must be absolute", t)
			}
			opts := []string{"noexec", "nosuid", "nodev"}
			if o != "" {
				opts = append(opts, strings.Split(o, ",")...)
			}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: filepath.Clean(p), Type: "tmpfs", Source: "tmpfs", Options: opts})
		}
		return nil
	}
}

// withDevices: --device HOST[:CTR[:PERMS]], the node and its cgroup rule.
func withDevices(c *Container) SpecOpt {
	return func(s *specs.Spec) error {
		for _, d := range c.Opts.Devices {
			f := strings.Split(d, ":")
			host, ctr, perms := f[0], f[0], "rwm"
			if len(f) > 1 && f[1] != "" {
				ctr = f[1]
			}
			if len(f) > 2 {
				perms = f[2]
			}
			var st unix.Stat_t
			if err := unix.Stat(host, &st); err != nil {
				return fmt.Errorf("error gathering device information while adding custom device %q: %w", host, err)
			}
			typ := ""
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFCHR:
				typ = "c"
			case unix.S_IFBLK:
				typ = "b"
			default:
				return fmt.Errorf("%s is not a device node", host)
			}
			major, minor := int64(unix.Major(uint64(st.Rdev))), int64(unix.Minor(uint64(st.Rdev)))
			mode := os.FileMode(st.Mode & 0o777)
			s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: ctr, Type: typ, Major: major, Minor: minor, FileMode: &mode, UID: &st.Uid, GID: &st.Gid})
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: typ, Major: &major, Minor: &minor, Access: perms})
		}
		return nil
	}
}

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

func numCPU() int {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) == nil {
		return set.Count()
	}
	return 1
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
