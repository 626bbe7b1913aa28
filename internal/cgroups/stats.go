package cgroups

import (
	"errors"
	"io/fs"
)

// Stats is what `events --stats` prints. The JSON names are runc's
// (runc/types/events.go) so tools that read runc's output read hako's.
type Stats struct {
	CPU     CPU                `json:"cpu"`
	Memory  Memory             `json:"memory"`
	Pids    Pids               `json:"pids"`
	Blkio   Blkio              `json:"blkio"`
	Hugetlb map[string]Hugetlb `json:"hugetlb"`
}

// CPU times are in nanoseconds.
type CPU struct {
	Usage      CPUUsage   `json:"usage,omitempty"`
	Throttling Throttling `json:"throttling,omitempty"`
}

type CPUUsage struct {
	Total        uint64   `json:"total,omitempty"`
	Percpu       []uint64 `json:"percpu,omitempty"` // v1 only
	PercpuKernel []uint64 `json:"percpu_kernel,omitempty"`
	PercpuUser   []uint64 `json:"percpu_user,omitempty"`
	Kernel       uint64   `json:"kernel"`
	User         uint64   `json:"user"`
}

type Throttling struct {
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
	ThrottledTime    uint64 `json:"throttledTime,omitempty"`
}

// Memory: Swap is memory+swap on both hierarchies, as in runc.
type Memory struct {
	Cache     uint64            `json:"cache,omitempty"`
	Usage     MemoryEntry       `json:"usage,omitempty"`
	Swap      MemoryEntry       `json:"swap,omitempty"`
	Kernel    MemoryEntry       `json:"kernel,omitempty"`
	KernelTCP MemoryEntry       `json:"kernelTCP,omitempty"`
	Raw       map[string]uint64 `json:"raw,omitempty"`
}

type MemoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// Pids: a Limit of 0 means no limit, as in runc.
type Pids struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

type Blkio struct {
	IoServiceBytesRecursive []BlkioEntry `json:"ioServiceBytesRecursive,omitempty"`
	IoServicedRecursive     []BlkioEntry `json:"ioServicedRecursive,omitempty"`
}

type BlkioEntry struct {
	Major uint64 `json:"major,omitempty"`
	Minor uint64 `json:"minor,omitempty"`
	Op    string `json:"op,omitempty"`
	Value uint64 `json:"value,omitempty"`
}

type Hugetlb struct {
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

type statFunc func(c cg, s *Stats) error

// statters read each controller's counters; order does not matter.
var statters = []struct {
	ctrl   string
	v1, v2 statFunc
}{
	{"cpuacct", statCPUAcctV1, nil},
	{"cpu", statCPUV1, statCPUV2},
	{"memory", statMemoryV1, statMemoryV2},
	{"pids", statPids, statPids},
	{"blkio", statBlkioV1, statIOV2},
	{"hugetlb", statHugetlbV1, statHugetlbV2},
}

// Stats reads what each controller the cgroup has offers; a controller the
// host lacks leaves its part zero.
func (m *manager) Stats() (*Stats, error) {
	s := &Stats{Hugetlb: map[string]Hugetlb{}}
	for _, st := range statters {
		c, v2, err := m.statDir(st.ctrl)
		if errors.Is(err, ErrNoController) {
			continue
		}
		f := st.v1
		if v2 {
			f = st.v2
		}
		if err := f(c, s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// statDir is where for stats: cpu.stat is a core cgroup2 file, there even
// when the cpu controller is not enabled.
func (m *manager) statDir(ctrl string) (cg, bool, error) {
	if d, ok := m.paths[""]; ok && ctrl == "cpu" && !m.hasV1() {
		return cg{dir: d, log: m.log}, true, nil
	}
	return m.where(ctrl)
}

// OOMKills reads the oom_kill counter: memory.events on v2,
// memory.oom_control on v1 (Linux 4.13+).
func (m *manager) OOMKills() (uint64, error) {
	c, v2, err := m.where("memory")
	if err != nil {
		return 0, err
	}
	file := "memory.oom_control"
	if v2 {
		file = "memory.events"
	}
	ev, err := c.keyed(file)
	return ev["oom_kill"], err
}

// optional turns "file not there" into no error, for counters that only
// some kernels have.
func optional(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
