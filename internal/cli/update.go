package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func init() { register("update", "change a running container's resource limits", updateCmd) }

// updateFlags are runc's `update` flags; each set flag overrides the
// matching field of --resources.
type updateFlags struct {
	resources                             string
	memory, reservation, swap             string
	cpuPeriod, cpuQuota, cpuShares        string
	cpuRtPeriod, cpuRtRuntime             string
	cpusetCpus, cpusetMems                string
	pidsLimit, blkioWeight                string
	kernelMemory, kernelMemoryTCP, l3, bw string
}

func (u *updateFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&u.resources, "resources", "", "JSON file (or - for stdin) with runtime-spec linux.resources")
	fs.StringVar(&u.resources, "r", "", "shorthand for --resources")
	fs.StringVar(&u.memory, "memory", "", "memory limit (bytes, or with k/m/g suffix)")
	fs.StringVar(&u.reservation, "memory-reservation", "", "memory soft limit")
	fs.StringVar(&u.swap, "memory-swap", "", "memory+swap limit (-1: unlimited)")
	fs.StringVar(&u.cpuPeriod, "cpu-period", "", "CFS period in µs")
	fs.StringVar(&u.cpuQuota, "cpu-quota", "", "CFS quota in µs per period")
	fs.StringVar(&u.cpuShares, "cpu-share", "", "CPU shares (relative weight)")
	fs.StringVar(&u.cpuShares, "cpu-shares", "", "alias of --cpu-share")
	fs.StringVar(&u.cpuRtPeriod, "cpu-rt-period", "", "realtime period in µs")
	fs.StringVar(&u.cpuRtRuntime, "cpu-rt-runtime", "", "realtime runtime in µs")
	fs.StringVar(&u.cpusetCpus, "cpuset-cpus", "", "CPUs to run on (e.g. 0-1)")
	fs.StringVar(&u.cpusetMems, "cpuset-mems", "", "memory nodes (e.g. 0)")
	fs.StringVar(&u.pidsLimit, "pids-limit", "", "maximum number of processes")
	fs.StringVar(&u.blkioWeight, "blkio-weight", "", "block IO weight (10-1000)")
	fs.StringVar(&u.kernelMemory, "kernel-memory", "", "accepted and ignored (kernel memory limits are gone from the kernel)")
	fs.StringVar(&u.kernelMemoryTCP, "kernel-memory-tcp", "", "accepted and ignored")
	fs.StringVar(&u.l3, "l3-cache-schema", "", "not supported (Intel RDT)")
	fs.StringVar(&u.bw, "mem-bw-schema", "", "not supported (Intel RDT)")
}

func updateCmd(g *globals, args []string) error {
	fs := flag.NewFlagSet("update", flag.ContinueOnError)
	var u updateFlags
	u.define(fs)
	pos, err := parse(fs, args, 1, 1, "one container ID")
	if err != nil {
		return err
	}
	r, err := u.build()
	if err != nil {
		return err
	}
	c, err := g.runtime().Load(pos[0])
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Update(r)
}

// build reads --resources, then lays the individual flags over it.
func (u *updateFlags) build() (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{}
	if u.resources != "" {
		if err := readResources(u.resources, r); err != nil {
			return nil, err
		}
	}
	if u.l3 != "" || u.bw != "" {
		return nil, fmt.Errorf("update: Intel RDT (--l3-cache-schema, --mem-bw-schema) is not supported")
	}
	return r, u.apply(r)
}

func readResources(path string, r *specs.LinuxResources) error {
	var in io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("update --resources: %w", err)
		}
		defer f.Close()
		in = f
	}
	if err := json.NewDecoder(in).Decode(r); err != nil {
		return fmt.Errorf("update --resources %s: %w", path, err)
	}
	return nil
}

func (u *updateFlags) apply(r *specs.LinuxResources) error {
	mem := func() *specs.LinuxMemory {
		if r.Memory == nil {
			r.Memory = &specs.LinuxMemory{}
		}
		return r.Memory
	}
	cpu := func() *specs.LinuxCPU {
		if r.CPU == nil {
			r.CPU = &specs.LinuxCPU{}
		}
		return r.CPU
	}
	sets := []struct {
		name, val string
		set       func(string) error
	}{
		{"memory", u.memory, sizeInto(func(v int64) { mem().Limit = &v })},
		{"memory-reservation", u.reservation, sizeInto(func(v int64) { mem().Reservation = &v })},
		{"memory-swap", u.swap, sizeInto(func(v int64) { mem().Swap = &v })},
		{"cpu-period", u.cpuPeriod, uintInto(func(v uint64) { cpu().Period = &v })},
		{"cpu-quota", u.cpuQuota, intInto(func(v int64) { cpu().Quota = &v })},
		{"cpu-share", u.cpuShares, uintInto(func(v uint64) { cpu().Shares = &v })},
		{"cpu-rt-period", u.cpuRtPeriod, uintInto(func(v uint64) { cpu().RealtimePeriod = &v })},
		{"cpu-rt-runtime", u.cpuRtRuntime, intInto(func(v int64) { cpu().RealtimeRuntime = &v })},
		{"cpuset-cpus", u.cpusetCpus, func(s string) error { cpu().Cpus = s; return nil }},
		{"cpuset-mems", u.cpusetMems, func(s string) error { cpu().Mems = s; return nil }},
		{"pids-limit", u.pidsLimit, intInto(func(v int64) { r.Pids = &specs.LinuxPids{Limit: &v} })},
		{"blkio-weight", u.blkioWeight, uintInto(func(v uint64) {
			w := uint16(v)
			r.BlockIO = &specs.LinuxBlockIO{Weight: &w}
		})},
	}
	for _, s := range sets {
		if s.val == "" {
			continue
		}
		if err := s.set(s.val); err != nil {
			return fmt.Errorf("update --%s %q: %w", s.name, s.val, err)
		}
	}
	return nil
}

func sizeInto(f func(int64)) func(string) error {
	return func(s string) error {
		v, err := parseSize(s)
		if err == nil {
			f(v)
		}
		return err
	}
}

func intInto(f func(int64)) func(string) error {
	return func(s string) error {
		v, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			f(v)
		}
		return err
	}
}

func uintInto(f func(uint64)) func(string) error {
	return func(s string) error {
		v, err := strconv.ParseUint(s, 10, 64)
		if err == nil {
			f(v)
		}
		return err
	}
}

// parseSize reads "1024", "16m", "16MiB", "1g", "-1" (unlimited) as bytes,
// binary multiples as docker and runc do.
func parseSize(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "ib"), "b")
	mult := int64(1)
	if n := len(t); n > 0 {
		if i := strings.IndexByte("kmgtp", t[n-1]); i >= 0 {
			mult = int64(1) << (10 * (i + 1))
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("not a size (e.g. 512k, 16m, 1g)")
	}
	return int64(v * float64(mult)), nil
}
