package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// fullResources sets every linux.resources field both hierarchies take;
// v1Only adds the fields cgroup2 refuses.
func fullResources(v1Only bool) *specs.LinuxResources {
	dev := func(major, minor int64) specs.LinuxBlockIODevice {
		return specs.LinuxBlockIODevice{Major: major, Minor: minor}
	}
	r := &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: ptr(int64(10)), Minor: ptr(int64(229)), Access: "rw"},
		},
		Memory: &specs.LinuxMemory{Limit: ptr(int64(256 << 20)), Reservation: ptr(int64(128 << 20)),
			Swap: ptr(int64(512 << 20)), KernelTCP: ptr(int64(1 << 20)),
			Swappiness: ptr(uint64(10)), DisableOOMKiller: ptr(true), UseHierarchy: ptr(true)},
		CPU: &specs.LinuxCPU{Shares: ptr(uint64(512)), Quota: ptr(int64(50000)), Burst: ptr(uint64(10000)),
			Period: ptr(uint64(100000)), Cpus: "0-1", Mems: "0", Idle: ptr(int64(0))},
		Pids: &specs.LinuxPids{Limit: ptr(int64(100))},
		BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(500)), LeafWeight: ptr(uint16(300)),
			WeightDevice:            []specs.LinuxWeightDevice{{LinuxBlockIODevice: dev(8, 0), Weight: ptr(uint16(600)), LeafWeight: ptr(uint16(700))}},
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev(8, 0), Rate: 1 << 20}},
			ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev(8, 16), Rate: 2 << 20}},
			ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev(8, 0), Rate: 100}},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev(8, 0), Rate: 0}},
		},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}},
		Rdma:           map[string]specs.LinuxRdma{"mlx5_0": {HcaHandles: ptr(uint32(2)), HcaObjects: ptr(uint32(2000))}},
	}
	//lint:ignore SA1019 the deprecated field must be accepted and ignored
	r.Memory.Kernel = ptr(int64(1 << 20))
	if v1Only {
		r.CPU.RealtimePeriod, r.CPU.RealtimeRuntime = ptr(uint64(100000)), ptr(int64(20000))
		r.Network = &specs.LinuxNetwork{ClassID: ptr(uint32(0x100001)),
			Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 5}}}
	} else {
		r.Unified = map[string]string{"memory.oom.group": "1"}
	}
	return r
}

var defaultDeviceWrites = []string{
	"devices.allow = c *:* m", "devices.allow = b *:* m", "devices.allow = c 1:3 rwm",
	"devices.allow = c 1:5 rwm", "devices.allow = c 1:7 rwm", "devices.allow = c 1:8 rwm",
	"devices.allow = c 1:9 rwm", "devices.allow = c 5:0 rwm", "devices.allow = c 5:1 rwm",
	"devices.allow = c 5:2 rwm", "devices.allow = c 136:* rwm", "devices.allow = c 10:200 rwm",
}

func prefixed(prefix string, lines ...string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = prefix + l
	}
	return out
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestCreateWrites(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T) (*fixture, layout)
		res   *specs.LinuxResources
		want  []string
		notes []string
	}{{
		name:  "v1",
		setup: func(t *testing.T) (*fixture, layout) { return v1Fixture(t, allV1) },
		res:   fullResources(true),
		want: concat(
			[]string{"cpuset/hako/cpuset.cpus = 0-3", "cpuset/hako/cpuset.mems = 0",
				"cpuset/hako/c1/cpuset.cpus = 0-3", "cpuset/hako/c1/cpuset.mems = 0"},
			// The spec's own deny-all repeats the default one: written once.
			prefixed("devices/hako/c1/", "devices.deny = a", "devices.allow = c 10:229 rw"),
			prefixed("devices/hako/c1/", defaultDeviceWrites...),
			prefixed("cpuset/hako/c1/", "cpuset.cpus = 0-1", "cpuset.mems = 0"),
			prefixed("memory/hako/c1/", "memory.limit_in_bytes = 268435456", "memory.memsw.limit_in_bytes = 536870912",
				"memory.soft_limit_in_bytes = 134217728", "memory.swappiness = 10", "memory.oom_control = 1",
				"memory.use_hierarchy = 1"),
			prefixed("cpu/hako/c1/", "cpu.shares = 512", "cpu.cfs_period_us = 100000", "cpu.cfs_burst_us = 10000",
				"cpu.cfs_quota_us = 50000", "cpu.rt_period_us = 100000", "cpu.rt_runtime_us = 20000", "cpu.idle = 0"),
			[]string{"pids/hako/c1/pids.max = 100"},
			prefixed("blkio/hako/c1/", "blkio.weight = 500", "blkio.leaf_weight = 300", "blkio.weight_device = 8:0 600",
				"blkio.leaf_weight_device = 8:0 700", "blkio.throttle.read_bps_device = 8:0 1048576",
				"blkio.throttle.write_bps_device = 8:16 2097152", "blkio.throttle.read_iops_device = 8:0 100",
				"blkio.throttle.write_iops_device = 8:0 0"),
			prefixed("hugetlb/hako/c1/", "hugetlb.2MB.limit_in_bytes = 4194304", "hugetlb.2MB.rsvd.limit_in_bytes = 4194304"),
			[]string{"net_cls/hako/c1/net_cls.classid = 1048577", "net_prio/hako/c1/net_prio.ifpriomap = eth0 5",
				"rdma/hako/c1/rdma.max = mlx5_0 hca_handle=2 hca_object=2000"},
		),
		notes: []string{"linux.resources.memory.kernel/kernelTCP: ignored, kernel memory limits are deprecated (Linux 5.4)"},
	}, {
		name:  "v2",
		setup: func(t *testing.T) (*fixture, layout) { return v2Fixture(t, allV2) },
		res:   fullResources(false),
		want: concat(
			[]string{"unified/cgroup.subtree_control = +cpu +cpuset +hugetlb +io +memory +pids +rdma",
				"unified/hako/cgroup.subtree_control = +cpu +cpuset +hugetlb +io +memory +pids +rdma"},
			prefixed("unified/hako/c1/", "cpuset.cpus = 0-1", "cpuset.mems = 0",
				"memory.swap.max = 268435456", "memory.max = 268435456", "memory.low = 134217728",
				"cpu.idle = 0", "cpu.weight = 20", "cpu.max.burst = 10000", "cpu.max = 50000 100000",
				"pids.max = 100",
				"io.weight = 4950", "io.weight = 8:0 5960", "io.max = 8:0 rbps=1048576", "io.max = 8:16 wbps=2097152",
				"io.max = 8:0 riops=100", "io.max = 8:0 wiops=max",
				"hugetlb.2MB.max = 4194304", "hugetlb.2MB.rsvd.max = 4194304",
				"rdma.max = mlx5_0 hca_handle=2 hca_object=2000",
				"memory.oom.group = 1"),
		),
		notes: []string{
			"linux.resources.memory.kernel/kernelTCP: ignored, kernel memory limits are deprecated (Linux 5.4)",
			"linux.resources.memory.swappiness: ignored, cgroup v2 has no per-cgroup swappiness",
			"linux.resources.memory.disableOOMKiller: ignored, cgroup v2 cannot disable the OOM killer",
			"linux.resources.blockIO.leafWeight: ignored, cgroup v2 has no leaf weight",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, l := tt.setup(t)
			m, _ := f.manager(Config{ID: "c1", Resources: tt.res}, l)
			if err := m.Create(); err != nil {
				t.Fatal(err)
			}
			diffLines(t, "writes", f.takeWrites(), tt.want)
			diffLines(t, "notes", f.notes, tt.notes)
		})
	}
}

func diffLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("%s[%d]:\n got %q\nwant %q", what, i, g, w)
		}
	}
}

func TestCreateV2DeviceFilter(t *testing.T) {
	f, l := v2Fixture(t, allV2)
	m, attached := f.manager(Config{ID: "c1", Resources: fullResources(false)}, l)
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	f.takeWrites()
	if len(*attached) != 1 {
		t.Fatalf("device filter attached %d times, want 1", len(*attached))
	}
	rules := (*attached)[0]
	if rules[0] != denyAll || rules[2].String() != "c 10:229 rw" || len(rules) != 3+len(defaultDevices) {
		t.Errorf("rules = %v", rules)
	}
	// Set without device rules leaves the filter alone.
	if err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(-1))}}); err != nil {
		t.Fatal(err)
	}
	if len(*attached) != 1 {
		t.Errorf("Set without devices re-attached the filter")
	}
	diffLines(t, "writes", f.takeWrites(), []string{"unified/hako/c1/pids.max = max"})
}

func TestApply(t *testing.T) {
	f, l := v1Fixture(t, []string{"cpu,cpuacct", "memory"})
	m, _ := f.manager(Config{Path: "/hako/c1"}, l)
	if err := m.Apply(42); err != nil {
		t.Fatal(err)
	}
	// co-mounted cpu and cpuacct share one directory, written once
	diffLines(t, "writes", f.takeWrites(), []string{
		"cpu,cpuacct/hako/c1/cgroup.procs = 42", "memory/hako/c1/cgroup.procs = 42"})
	if p := m.Paths(); p["cpu"] != p["cpuacct"] || p["cpu"] != filepath.Join(f.root, "cpu,cpuacct/hako/c1") {
		t.Errorf("paths = %v", p)
	}
}

func TestHybrid(t *testing.T) {
	for _, hugetlb := range []bool{false, true} {
		f := newFixture(t)
		for _, c := range []string{"memory", "devices"} {
			f.v1Cgroup(c, "hako/c1")
		}
		f.files("unified", map[string]string{"cgroup.controllers": "hugetlb", "cgroup.subtree_control": ""})
		f.v2Cgroup("unified", "hako/c1", []string{"hugetlb"})
		res := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(1 << 20))}}
		want := []string{"memory/hako/c1/memory.limit_in_bytes = 1048576"}
		if hugetlb {
			res.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 2 << 20}}
			want = []string{"unified/cgroup.subtree_control = +hugetlb", "unified/hako/cgroup.subtree_control = +hugetlb",
				want[0], "unified/hako/c1/hugetlb.2MB.max = 2097152", "unified/hako/c1/hugetlb.2MB.rsvd.max = 2097152"}
		}
		m, attached := f.manager(Config{ID: "c1", Resources: res}, f.layout([]string{"memory", "devices"}, "unified"))
		if err := m.Create(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range f.takeWrites() {
			if !strings.HasPrefix(w, "devices/") {
				got = append(got, w)
			}
		}
		diffLines(t, "writes", got, want)
		if len(*attached) != 0 {
			t.Error("device filter attached on a host with the v1 devices controller")
		}
		if fd, err := m.CgroupFD(); fd != -1 || err != nil {
			t.Errorf("CgroupFD on hybrid = %d, %v; want -1, nil", fd, err)
		}
	}
}

func TestSetErrors(t *testing.T) {
	v1 := func(t *testing.T) (*fixture, layout) { return v1Fixture(t, []string{"cpu", "memory", "devices"}) }
	v2 := func(t *testing.T) (*fixture, layout) { return v2Fixture(t, []string{"cpu", "memory", "hugetlb"}) }
	tests := []struct {
		name  string
		setup func(t *testing.T) (*fixture, layout)
		res   specs.LinuxResources
		is    error
		text  string
	}{
		{"unified on v1", v1, specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}}, ErrUnifiedOnV1, ""},
		{"realtime on v2", v2, specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr(int64(1))}}, nil, "realtime"},
		{"net_cls on v2", v2, specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr(uint32(1))}}, ErrNoController, "network.classID"},
		{"pids not enabled", v2, specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(1))}}, ErrNoController, "pids"},
		{"hugetlb not mounted", v1, specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB"}}}, ErrNoController, "hugepageLimits"},
		{"bad page size", v2, specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "../2MB"}}}, nil, "bad page size"},
		{"swap below limit", v2, specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(10)), Swap: ptr(int64(5))}}, nil, "below limit"},
		{"swap without limit", v2, specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: ptr(int64(5))}}, nil, "needs a memory limit"},
		{"swappiness", v1, specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr(uint64(101))}}, nil, "want 0 to 100"},
		{"device type", v1, specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "x"}}}, nil, `devices[0]: device type "x"`},
		{"device access", v1, specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c", Access: "rr"}}}, nil, "access"},
		{"unified name", v2, specs.LinuxResources{Unified: map[string]string{"../x": "1"}}, nil, "bad file name"},
		{"unified missing", v2, specs.LinuxResources{Unified: map[string]string{"io.max": "1"}}, os.ErrNotExist, "is the io controller enabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, l := tt.setup(t)
			m, _ := f.manager(Config{ID: "c1"}, l)
			err := m.Set(&tt.res)
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %v; want %v containing %q", err, tt.is, tt.text)
			}
		})
	}
}

// A write the kernel refuses fails naming the file and the value.
func TestWriteErrorNamesFileAndValue(t *testing.T) {
	f, l := v1Fixture(t, []string{"memory"})
	if err := os.Remove(filepath.Join(f.root, "memory/hako/c1/memory.swappiness")); err != nil {
		t.Fatal(err)
	}
	m, _ := f.manager(Config{ID: "c1"}, l)
	err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr(uint64(5))}})
	want := "cgroup write " + f.root + "/memory/hako/c1/memory.swappiness = 5: ENOENT"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v; want prefix %q", err, want)
	}
}

// Create removes the directories it made when a limit fails.
func TestCreateUndo(t *testing.T) {
	f := newFixture(t)
	f.files("memory", nil) // the mount, empty: mkdir makes dirs without files
	m, _ := f.manager(Config{ID: "c1", Resources: &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(1 << 20))}}}, f.layout([]string{"memory"}, ""))
	if err := m.Create(); err == nil {
		t.Fatal("Create succeeded without memory.limit_in_bytes")
	}
	if _, err := os.Stat(filepath.Join(f.root, "memory/hako")); !os.IsNotExist(err) {
		t.Errorf("memory/hako left behind: %v", err)
	}
}

func TestRootlessSkip(t *testing.T) {
	f, l := v1Fixture(t, []string{"cpu", "memory", "pids"})
	res := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(1))}}
	m, _ := f.manager(Config{ID: "c1", Resources: res, Rootless: true}, l)
	denied := &os.PathError{Op: "mkdir", Err: unix.EACCES}
	if m.canSkip(m.paths["memory"], denied) {
		t.Error("rootless may skip memory although a memory limit is asked")
	}
	if !m.canSkip(m.paths["cpu"], denied) || m.canSkip(m.paths["cpu"], os.ErrNotExist) {
		t.Error("canSkip(cpu) wrong: only permission errors on unneeded hierarchies are skipped")
	}
	m.skip(m.paths["cpu"])
	m.skip(m.paths["pids"])
	if got := strings.Join(m.Skipped(), ","); got != "cpu,pids" {
		t.Errorf("Skipped() = %q", got)
	}
	if _, ok := m.Paths()["cpu"]; ok {
		t.Error("skipped cpu still in Paths")
	}
	m.rootless = false
	if m.canSkip(m.paths["memory"], denied) {
		t.Error("canSkip without rootless")
	}
}

func TestConversions(t *testing.T) {
	for _, tt := range []struct{ shares, weight uint64 }{{2, 1}, {0, 1}, {1024, 39}, {262144, 10000}, {1 << 30, 10000}} {
		if got := sharesToWeight(tt.shares); got != tt.weight {
			t.Errorf("sharesToWeight(%d) = %d, want %d", tt.shares, got, tt.weight)
		}
	}
	for _, tt := range []struct {
		w    uint16
		want uint64
	}{{10, 1}, {100, 910}, {1000, 10000}, {1, 1}} {
		if got := ioWeight(tt.w); got != tt.want {
			t.Errorf("ioWeight(%d) = %d, want %d", tt.w, got, tt.want)
		}
	}
	for _, tt := range []struct {
		quota  *int64
		period *uint64
		want   string
	}{
		{ptr(int64(50000)), ptr(uint64(100000)), "50000 100000"},
		{ptr(int64(-1)), ptr(uint64(100000)), "max 100000"},
		{nil, ptr(uint64(20000)), "max 20000"},
		{ptr(int64(30000)), nil, "30000"},
		{nil, nil, ""},
	} {
		got := ""
		if kv := cpuMax(&specs.LinuxCPU{Quota: tt.quota, Period: tt.period}); kv != nil {
			got = kv.value
		}
		if got != tt.want {
			t.Errorf("cpu.max for %v/%v = %q, want %q", val(tt.quota), val(tt.period), got, tt.want)
		}
	}
}

func TestSwapV2(t *testing.T) {
	for _, tt := range []struct {
		swap, limit int64
		want        string
		fails       bool
	}{
		{0, 0, "", false}, {0, 100, "", false}, {-1, 100, "max", false}, {0, -1, "max", false},
		{300, 100, "200", false}, {100, 100, "0", false}, {50, 100, "", true}, {50, 0, "", true}, {50, -1, "", true},
	} {
		got, err := swapV2(tt.swap, tt.limit)
		if got != tt.want || (err != nil) != tt.fails {
			t.Errorf("swapV2(%d, %d) = %q, %v", tt.swap, tt.limit, got, err)
		}
	}
}

// Growing both limits on v1 writes memsw first; shrinking writes the
// memory limit first: the kernel keeps memory <= memory+swap at each step.
func TestMemoryV1Order(t *testing.T) {
	for _, tt := range []struct {
		cur, limit, swap string
		want             []string
	}{
		{"1048576", "4194304", "8388608", []string{"memory.memsw.limit_in_bytes = 8388608", "memory.limit_in_bytes = 4194304"}},
		{"9223372036854771712", "4194304", "8388608", []string{"memory.limit_in_bytes = 4194304", "memory.memsw.limit_in_bytes = 8388608"}},
		// unlimited memory means unlimited memory+swap, written first: always safe
		{"4194304", "-1", "0", []string{"memory.memsw.limit_in_bytes = -1", "memory.limit_in_bytes = -1"}},
	} {
		f, l := v1Fixture(t, []string{"memory"})
		f.files("memory/hako/c1", map[string]string{"memory.limit_in_bytes": tt.cur})
		m, _ := f.manager(Config{ID: "c1"}, l)
		limit, swap := parseInt(t, tt.limit), parseInt(t, tt.swap)
		if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &swap}}); err != nil {
			t.Fatal(err)
		}
		diffLines(t, "writes", f.takeWrites(), prefixed("memory/hako/c1/", tt.want...))
	}
}

func parseInt(t *testing.T, s string) int64 {
	n, err := parseUint(strings.TrimPrefix(s, "-"), s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(s, "-") {
		return -int64(n)
	}
	return int64(n)
}

func TestCheckBeforeUpdate(t *testing.T) {
	f, l := v2Fixture(t, []string{"memory"})
	m, _ := f.manager(Config{ID: "c1"}, l)
	mem := &specs.LinuxMemory{Limit: ptr(int64(1024)), CheckBeforeUpdate: ptr(true)}
	if err := m.Set(&specs.LinuxResources{Memory: mem}); err == nil || !strings.Contains(err.Error(), "below the current usage 4096") {
		t.Errorf("err = %v", err)
	}
	mem.Limit = ptr(int64(8192))
	if err := m.Set(&specs.LinuxResources{Memory: mem}); err != nil {
		t.Error(err)
	}
}

func TestValidPageSize(t *testing.T) {
	for s, want := range map[string]bool{"2MB": true, "1GB": true, "64KB": true, "10B": true, "1B": true,
		"": false, "B": false, "MB": false, "0MB": false, "02MB": false, "2M": false, "2mb": false, "2XB": false,
		"2MBB": false, "-2MB": false, "2 MB": false, "../x": false, "2MB/": false} {
		if got := validPageSize(s); got != want {
			t.Errorf("validPageSize(%q) = %v, want %v", s, got, want)
		}
	}
}
