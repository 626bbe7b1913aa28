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

// statCPUV2 reads cpu.stat, in microseconds (cgroup-v2.rst, "CPU
// Interface Files"). cgroup2 has no per-cpu usage.
func statCPUV2(c cg, s *Stats) error {
	st, err := c.keyed("cpu.stat")
	if err != nil {
		return err
	}
	s.CPU.Usage.Total = st["usage_usec"] * 1000
	s.CPU.Usage.User = st["user_usec"] * 1000
	s.CPU.Usage.Kernel = st["system_usec"] * 1000
	s.CPU.Throttling = Throttling{st["nr_periods"], st["nr_throttled"], st["throttled_usec"] * 1000}
	return nil
}

// statMemoryV2 reads memory.stat, memory.{current,max,peak} and the swap
// counterparts. Failcnt is memory.events "max" (times the limit was hit).
// Swap is reported as memory+swap, the v1 meaning, as runc does.
func statMemoryV2(c cg, s *Stats) error {
	raw, err := c.keyed("memory.stat")
	if err != nil {
		return err
	}
	s.Memory.Raw, s.Memory.Cache = raw, raw["file"]
	if s.Memory.Usage, err = memEntryV2(c, "memory."); err != nil {
		return err
	}
	ev, err := c.keyed("memory.events")
	if err != nil {
		return err
	}
	s.Memory.Usage.Failcnt = ev["max"]
	swap, err := memEntryV2(c, "memory.swap.")
	if optional(err) != nil {
		return err
	}
	if err == nil {
		s.Memory.Swap = MemoryEntry{
			Usage: swap.Usage + s.Memory.Usage.Usage,
			Limit: satAdd(swap.Limit, s.Memory.Usage.Limit),
		}
	}
	return nil
}

// memEntryV2 reads <prefix>current and max, and peak where the kernel has
// it (memory.peak 5.19, memory.swap.peak 6.5).
func memEntryV2(c cg, prefix string) (MemoryEntry, error) {
	var e MemoryEntry
	var err error
	if e.Usage, err = c.uint(prefix + "current"); err != nil {
		return e, err
	}
	if e.Limit, err = c.uint(prefix + "max"); err != nil {
		return e, err
	}
	e.Max, err = c.uint(prefix + "peak")
	return e, optional(err)
}

func satAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

// statIOV2 reads io.stat into the v1-shaped blkio entries, as runc does.
func statIOV2(c cg, s *Stats) error {
	f, err := os.Open(filepath.Join(c.dir, "io.stat"))
	if err != nil {
		return err
	}
	defer f.Close()
	s.Blkio, err = parseIOStat(f)
	if err != nil {
		return fmt.Errorf("parse %s: %w", f.Name(), err)
	}
	return nil
}

// parseIOStat parses "MAJ:MIN rbytes=N wbytes=N rios=N wios=N ..." lines
// (nested keyed); discard and other keys are left out, as in runc.
func parseIOStat(r io.Reader) (Blkio, error) {
	var b Blkio
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		var dev BlkioEntry
		if _, err := fmt.Sscanf(f[0], "%d:%d", &dev.Major, &dev.Minor); err != nil {
			return b, fmt.Errorf("line %q: %w", sc.Text(), err)
		}
		for _, kv := range f[1:] {
			if err := addIOStat(&b, dev, kv); err != nil {
				return b, fmt.Errorf("line %q: %w", sc.Text(), err)
			}
		}
	}
	return b, sc.Err()
}

func addIOStat(b *Blkio, e BlkioEntry, kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok {
		return fmt.Errorf("field %q: want key=value", kv)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return err
	}
	e.Value = n
	switch k {
	case "rbytes", "wbytes":
		e.Op = map[string]string{"rbytes": "Read", "wbytes": "Write"}[k]
		b.IoServiceBytesRecursive = append(b.IoServiceBytesRecursive, e)
	case "rios", "wios":
		e.Op = map[string]string{"rios": "Read", "wios": "Write"}[k]
		b.IoServicedRecursive = append(b.IoServicedRecursive, e)
	}
	return nil
}

// statHugetlbV2 reads hugetlb.<size>.current and the "max" count of
// hugetlb.<size>.events (allocations refused by the limit).
func statHugetlbV2(c cg, s *Stats) error {
	sizes, err := c.hugeSizes(".max")
	if err != nil {
		return err
	}
	for _, size := range sizes {
		var h Hugetlb
		p := "hugetlb." + size + "."
		if h.Usage, err = c.uint(p + "current"); err != nil {
			return err
		}
		ev, err := c.keyed(p + "events")
		if err != nil {
			return err
		}
		h.Failcnt = ev["max"]
		s.Hugetlb[size] = h
	}
	return nil
}
