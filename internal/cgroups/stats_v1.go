package cgroups

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// nsPerTick converts cpuacct.stat's USER_HZ ticks (100 a second for
// every userspace interface) to nanoseconds.
const nsPerTick = 1e9 / 100

// statCPUAcctV1 reads cpuacct usage (cgroup-v1/cpuacct.rst).
func statCPUAcctV1(c cg, s *Stats) error {
	u := &s.CPU.Usage
	var err error
	if u.Total, err = c.uint("cpuacct.usage"); err != nil {
		return err
	}
	if u.Percpu, err = c.uints("cpuacct.usage_percpu"); err != nil {
		return err
	}
	if u.PercpuKernel, err = c.uints("cpuacct.usage_percpu_sys"); optional(err) != nil {
		return err
	}
	if u.PercpuUser, err = c.uints("cpuacct.usage_percpu_user"); optional(err) != nil {
		return err
	}
	st, err := c.keyed("cpuacct.stat")
	u.User, u.Kernel = st["user"]*nsPerTick, st["system"]*nsPerTick
	return err
}

// statCPUV1 reads CFS throttling from cpu.stat (sched-bwc.rst).
func statCPUV1(c cg, s *Stats) error {
	st, err := c.keyed("cpu.stat")
	s.CPU.Throttling = Throttling{st["nr_periods"], st["nr_throttled"], st["throttled_time"]}
	return err
}

// statMemoryV1 reads memory.stat and the usage/max/failcnt/limit quartet
// of memory, memory+swap, kernel and kernel TCP memory; the last three
// exist only with swap accounting or kmem support.
func statMemoryV1(c cg, s *Stats) error {
	raw, err := c.keyed("memory.stat")
	if err != nil {
		return err
	}
	s.Memory.Raw, s.Memory.Cache = raw, raw["cache"]
	if s.Memory.Usage, err = memEntryV1(c, "memory."); err != nil {
		return err
	}
	if s.Memory.Swap, err = memEntryV1(c, "memory.memsw."); optional(err) != nil {
		return err
	}
	if s.Memory.Kernel, err = memEntryV1(c, "memory.kmem."); optional(err) != nil {
		return err
	}
	s.Memory.KernelTCP, err = memEntryV1(c, "memory.kmem.tcp.")
	return optional(err)
}

func memEntryV1(c cg, prefix string) (MemoryEntry, error) {
	var e MemoryEntry
	for _, f := range []struct {
		name string
		dst  *uint64
	}{{"usage_in_bytes", &e.Usage}, {"max_usage_in_bytes", &e.Max}, {"failcnt", &e.Failcnt}, {"limit_in_bytes", &e.Limit}} {
		v, err := c.uint(prefix + f.name)
		if err != nil {
			return MemoryEntry{}, err
		}
		*f.dst = v
	}
	return e, nil
}

// statPids reads pids.current and pids.max, same files on v1 and v2;
// "max" reads as limit 0, as runc reports it.
func statPids(c cg, s *Stats) error {
	cur, err := c.uint("pids.current")
	if err != nil {
		return err
	}
	limit, err := c.uint("pids.max")
	if limit == math.MaxUint64 {
		limit = 0
	}
	s.Pids = Pids{Current: cur, Limit: limit}
	return err
}

// statBlkioV1 reads the recursive byte and op counters of the first
// policy the kernel has: CFQ (gone since 5.0), BFQ, then throttling,
// runc's order.
func statBlkioV1(c cg, s *Stats) error {
	for _, p := range []string{"blkio.", "blkio.bfq.", "blkio.throttle."} {
		if !c.has(p + "io_service_bytes_recursive") {
			continue
		}
		var err error
		if s.Blkio.IoServiceBytesRecursive, err = c.blkio(p + "io_service_bytes_recursive"); err != nil {
			return err
		}
		s.Blkio.IoServicedRecursive, err = c.blkio(p + "io_serviced_recursive")
		return err
	}
	return nil
}

func (c cg) blkio(file string) ([]BlkioEntry, error) {
	f, err := os.Open(filepath.Join(c.dir, file))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	e, err := parseBlkioV1(f)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", f.Name(), err)
	}
	return e, nil
}

// parseBlkioV1 parses "MAJ:MIN Op value" lines; the "Total value" line
// is a sum and is left out.
func parseBlkioV1(r io.Reader) ([]BlkioEntry, error) {
	var out []BlkioEntry
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		var e BlkioEntry
		if _, err := fmt.Sscanf(f[0], "%d:%d", &e.Major, &e.Minor); err != nil {
			return nil, fmt.Errorf("line %q: %w", sc.Text(), err)
		}
		v, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %q: %w", sc.Text(), err)
		}
		e.Op, e.Value = f[1], v
		out = append(out, e)
	}
	return out, sc.Err()
}

// statHugetlbV1 reads hugetlb.<size>.{usage_in_bytes,max_usage_in_bytes,
// failcnt} for every page size the kernel offers.
func statHugetlbV1(c cg, s *Stats) error {
	sizes, err := c.hugeSizes(".limit_in_bytes")
	if err != nil {
		return err
	}
	for _, size := range sizes {
		var h Hugetlb
		p := "hugetlb." + size + "."
		if h.Usage, err = c.uint(p + "usage_in_bytes"); err != nil {
			return err
		}
		if h.Max, err = c.uint(p + "max_usage_in_bytes"); err != nil {
			return err
		}
		if h.Failcnt, err = c.uint(p + "failcnt"); err != nil {
			return err
		}
		s.Hugetlb[size] = h
	}
	return nil
}

// hugeSizes lists the page sizes from the hugetlb.<size><suffix> files,
// leaving out the .rsvd. variants.
func (c cg) hugeSizes(suffix string) ([]string, error) {
	ents, err := os.ReadDir(c.dir)
	var sizes []string
	for _, e := range ents {
		size, ok := strings.CutPrefix(e.Name(), "hugetlb.")
		size, ok2 := strings.CutSuffix(size, suffix)
		if ok && ok2 && validPageSize(size) {
			sizes = append(sizes, size)
		}
	}
	return sizes, err
}

// uints reads a file of space-separated numbers (cpuacct.usage_percpu).
func (c cg) uints(file string) ([]uint64, error) {
	s, err := c.read(file)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, f := range strings.Fields(s) {
		v, err := parseUint(f, file)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
