package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"hako/internal/trace"
)

// fixture is a fake cgroup filesystem in a temp dir: directories holding
// the control files a kernel would show, a mountinfo text naming them, and
// a trace log recording every successful write, root prefix cut off.
type fixture struct {
	t      *testing.T
	root   string
	mu     sync.Mutex
	writes []string
	notes  []string
	log    *trace.Log
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, root: t.TempDir()}
	f.log = trace.New("hako", func(ev trace.Event) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case ev.Step == "cgroup write" && ev.Err == "":
			f.writes = append(f.writes, strings.TrimPrefix(ev.Operands, f.root+"/"))
		case ev.Step == "cgroup skip":
			f.notes = append(f.notes, ev.Operands)
		}
	})
	return f
}

func (f *fixture) takeWrites() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.writes
	f.writes = nil
	return w
}

// files creates directory rel with the given files.
func (f *fixture) files(rel string, files map[string]string) {
	dir := filepath.Join(f.root, rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}

// v1Files are the files of a v1 cgroup per controller (cgroup.procs is
// added to all).
var v1Files = map[string]map[string]string{
	"cpu": {"cpu.shares": "1024", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1",
		"cpu.cfs_burst_us": "0", "cpu.rt_period_us": "1000000", "cpu.rt_runtime_us": "0", "cpu.idle": "0",
		"cpu.stat": "nr_periods 10\nnr_throttled 3\nthrottled_time 4000\n"},
	"cpuacct": {"cpuacct.usage": "3000", "cpuacct.usage_percpu": "1000 2000 \n",
		"cpuacct.usage_percpu_sys": "100 200", "cpuacct.usage_percpu_user": "900 1800",
		"cpuacct.stat": "user 7\nsystem 2\n"},
	"cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
	"memory": {"memory.limit_in_bytes": "9223372036854771712", "memory.memsw.limit_in_bytes": "9223372036854771712",
		"memory.soft_limit_in_bytes": "", "memory.swappiness": "60", "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
		"memory.use_hierarchy": "1", "memory.usage_in_bytes": "4096", "memory.max_usage_in_bytes": "8192",
		"memory.failcnt": "1", "memory.memsw.usage_in_bytes": "5000", "memory.memsw.max_usage_in_bytes": "9000",
		"memory.memsw.failcnt": "0", "memory.stat": "cache 1024\nrss 3072\ntotal_cache 1024\n"},
	"devices": {"devices.allow": "", "devices.deny": "", "devices.list": ""},
	"freezer": {"freezer.state": "THAWED"},
	"blkio": {"blkio.weight": "500", "blkio.weight_device": "", "blkio.leaf_weight": "500", "blkio.leaf_weight_device": "",
		"blkio.throttle.read_bps_device": "", "blkio.throttle.write_bps_device": "",
		"blkio.throttle.read_iops_device": "", "blkio.throttle.write_iops_device": "",
		"blkio.throttle.io_service_bytes_recursive": "8:0 Read 100\n8:0 Write 200\n8:0 Sync 0\nTotal 300\n",
		"blkio.throttle.io_serviced_recursive":      "8:0 Read 1\n8:0 Write 2\nTotal 3\n"},
	"pids":    {"pids.max": "max", "pids.current": "3"},
	"hugetlb": hugetlbV1Files,
	"net_cls": {"net_cls.classid": "0"}, "net_prio": {"net_prio.ifpriomap": ""},
	"rdma": {"rdma.max": ""},
}

var hugetlbV1Files = map[string]string{
	"hugetlb.2MB.limit_in_bytes": "", "hugetlb.2MB.rsvd.limit_in_bytes": "",
	"hugetlb.2MB.usage_in_bytes": "2097152", "hugetlb.2MB.max_usage_in_bytes": "4194304", "hugetlb.2MB.failcnt": "1",
}

// v2Files are the files of a cgroup2 cgroup per controller; "" is the core.
var v2Files = map[string]map[string]string{
	"": {"cgroup.procs": "", "cgroup.subtree_control": "", "cgroup.freeze": "0",
		"cgroup.events": "populated 1\nfrozen 0\n", "cgroup.kill": "",
		"cpu.stat": "usage_usec 5\nuser_usec 3\nsystem_usec 2\nnr_periods 4\nnr_throttled 1\nthrottled_usec 7\n"},
	"cpu":    {"cpu.weight": "100", "cpu.max": "max 100000", "cpu.max.burst": "0", "cpu.idle": "0"},
	"cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
	"memory": {"memory.max": "max", "memory.low": "0", "memory.swap.max": "max", "memory.current": "4096",
		"memory.peak": "8192", "memory.swap.current": "100", "memory.swap.peak": "200", "memory.oom.group": "0",
		"memory.events": "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n", "memory.stat": "anon 3072\nfile 1024\n"},
	"pids":    {"pids.max": "max", "pids.current": "2"},
	"io":      {"io.weight": "default 100", "io.max": "", "io.stat": "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n"},
	"hugetlb": hugetlbV2Files,
	"rdma":    {"rdma.max": ""},
}

var hugetlbV2Files = map[string]string{
	"hugetlb.2MB.max": "max", "hugetlb.2MB.rsvd.max": "max", "hugetlb.2MB.current": "2097152",
	"hugetlb.2MB.events": "max 3\n",
}

var allV2 = []string{"cpu", "cpuset", "hugetlb", "io", "memory", "pids", "rdma"}

// v1Cgroup makes the cgroup rel in the v1 hierarchy of ctrl, parents too.
func (f *fixture) v1Cgroup(ctrl, rel string) {
	parts := strings.Split(rel, "/")
	for i := range parts {
		files := map[string]string{"cgroup.procs": ""}
		for k, v := range v1Files[ctrl] {
			files[k] = v
		}
		f.files(filepath.Join(append([]string{ctrl}, parts[:i+1]...)...), files)
	}
}

// v2Cgroup makes the cgroup2 cgroup rel with ctrls available, parents too.
func (f *fixture) v2Cgroup(mount, rel string, ctrls []string) {
	parts := strings.Split(rel, "/")
	for i := range parts {
		files := map[string]string{"cgroup.controllers": strings.Join(ctrls, " ")}
		for _, c := range append([]string{""}, ctrls...) {
			for k, v := range v2Files[c] {
				files[k] = v
			}
		}
		f.files(filepath.Join(append([]string{mount}, parts[:i+1]...)...), files)
	}
}

// mountinfo describes the fixture's hierarchies: v1 controllers, each
// mounted at root/<name>, and a cgroup2 mount at root/<unified> if set.
func (f *fixture) mountinfo(v1 []string, unified string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n")
	for i, c := range v1 {
		fmt.Fprintf(&b, "%d 22 0:%d / %s rw,relatime shared:%d - cgroup cgroup rw,%s\n", 30+i, 30+i, filepath.Join(f.root, c), i, c)
	}
	if unified != "" {
		fmt.Fprintf(&b, "29 22 0:29 / %s rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n", filepath.Join(f.root, unified))
	}
	return b.String()
}

// layout parses the fixture's mountinfo, the way New does on a host.
func (f *fixture) layout(v1 []string, unified string) layout {
	l, err := parseMountinfo(strings.NewReader(f.mountinfo(v1, unified)))
	if err != nil {
		f.t.Fatal(err)
	}
	l.own = map[string]string{"": "/"}
	for _, c := range v1 {
		for _, name := range strings.Split(c, ",") {
			l.own[name] = "/"
		}
	}
	return l
}

var allV1 = []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory", "net_cls", "net_prio", "pids", "rdma"}

// v1Fixture is a v1 host with ctrls mounted and the container's cgroup
// /hako/c1 made in each, as the kernel would show it.
func v1Fixture(t *testing.T, ctrls []string) (*fixture, layout) {
	f := newFixture(t)
	for _, c := range ctrls {
		f.v1Cgroup(c, "hako/c1")
	}
	f.files("cpuset", map[string]string{"cpuset.cpus": "0-3", "cpuset.mems": "0"})
	return f, f.layout(ctrls, "")
}

// v2Fixture is a pure cgroup2 host with ctrls available and /hako/c1 made.
func v2Fixture(t *testing.T, ctrls []string) (*fixture, layout) {
	f := newFixture(t)
	f.files("unified", map[string]string{"cgroup.controllers": strings.Join(ctrls, " "), "cgroup.subtree_control": ""})
	f.v2Cgroup("unified", "hako/c1", ctrls)
	return f, f.layout(nil, "unified")
}

// manager builds a manager on the fixture; device filters are recorded,
// not loaded.
func (f *fixture) manager(cfg Config, l layout) (*manager, *[][]deviceRule) {
	m, err := newManager(cfg, l, f.log)
	if err != nil {
		f.t.Fatal(err)
	}
	var attached [][]deviceRule
	m.attach = func(c cg, rules []deviceRule) error {
		attached = append(attached, rules)
		return nil
	}
	return m, &attached
}

func ptr[T any](v T) *T { return &v }
