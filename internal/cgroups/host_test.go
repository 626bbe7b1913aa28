package cgroups

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/trace"
)

// The host tests make real cgroups named /hako-test-<random> on this
// machine's hierarchies and remove them, and anything they enabled, in
// t.Cleanup. They run as root under plain `go test`; set
// HAKO_SKIP_HOST_TESTS=1 to skip them.
func requireHost(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("host cgroup tests need root")
	}
	if os.Getenv("HAKO_SKIP_HOST_TESTS") != "" {
		t.Skip("HAKO_SKIP_HOST_TESTS is set")
	}
}

func uniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// testLog prints failed steps, so a failing host test says which write;
// HAKO_TEST_TRACE=1 prints every step.
func testLog(t *testing.T) *trace.Log {
	all := os.Getenv("HAKO_TEST_TRACE") != ""
	return trace.New("hako", func(ev trace.Event) {
		if ev.Err != "" || all {
			t.Logf("step %s %s: %s", ev.Step, ev.Operands, ev.Err)
		}
	})
}

// keepSubtreeControl restores the cgroup2 root's subtree_control at
// cleanup: Create may enable a controller there (hugetlb on a hybrid host).
func keepSubtreeControl(t *testing.T, l layout) {
	if l.unified == nil {
		return
	}
	root := cg{dir: l.unified.point}
	before, _ := root.read("cgroup.subtree_control")
	t.Cleanup(func() {
		after, _ := root.read("cgroup.subtree_control")
		for _, c := range strings.Fields(after) {
			if !slices.Contains(strings.Fields(before), c) {
				_ = root.write("cgroup.subtree_control", "-"+c)
			}
		}
	})
}

func hostResources(l layout) *specs.LinuxResources {
	res := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20)), Reservation: ptr(int64(32 << 20))},
		CPU: &specs.LinuxCPU{Shares: ptr(uint64(512)), Quota: ptr(int64(50000)), Period: ptr(uint64(100000)),
			Cpus: "0", Mems: "0"},
		Pids: &specs.LinuxPids{Limit: ptr(int64(32))},
		// /dev/kmsg (c 1:11) is not in the defaults: denied after "deny all"
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
	}
	_, v1 := l.v1["hugetlb"]
	if v1 || (l.unified != nil && (cg{dir: l.unified.point}).controllers()["hugetlb"]) {
		if _, err := os.Stat("/sys/kernel/mm/hugepages/hugepages-2048kB"); err == nil {
			res.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}
		}
	}
	return res
}

func TestHostLifecycle(t *testing.T) {
	requireHost(t)
	l, err := hostLayout()
	if err != nil {
		t.Fatal(err)
	}
	if v2 := l.unified != nil && l.unified.point == "/sys/fs/cgroup"; IsV2Host() != v2 {
		t.Errorf("IsV2Host() = %v, but mountinfo says %v", IsV2Host(), v2)
	}
	keepSubtreeControl(t, l)
	res := hostResources(l)
	mgr, err := New(Config{Path: "/" + uniqueName("hako-test-"), Resources: res}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	m := mgr.(*manager)
	t.Cleanup(func() { destroyAndCheck(t, m) })
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	checkLimits(t, m, res)
	lifecycle(t, m, res)
}

// TestHostCgroup2Only runs the cgroup2 code paths on any host with a
// cgroup2 mount by leaving the v1 hierarchies out: on a hybrid host that
// is the unified tree, where the device filter, cgroup.freeze, cgroup.kill,
// CLONE_INTO_CGROUP and (if offered) hugetlb work as on a pure v2 host.
func TestHostCgroup2Only(t *testing.T) {
	requireHost(t)
	l, err := hostLayout()
	if err != nil {
		t.Fatal(err)
	}
	if l.unified == nil {
		t.Skip("no cgroup2 mount")
	}
	if len(l.v1) == 0 {
		t.Skip("pure v2 host: TestHostLifecycle covers it")
	}
	keepSubtreeControl(t, l)
	l.v1 = nil
	res := hostResources(l)
	res.Memory, res.CPU, res.Pids = nil, nil, nil // bound to v1 here
	m, err := newManager(Config{Path: "/" + uniqueName("hako-test-"), Resources: res}, l, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { destroyAndCheck(t, m) })
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if n := attachedFilters(t, m.paths[""]); n != 1 {
		t.Errorf("%d device filters attached, want 1", n)
	}
	lifecycle(t, m, res)
}

// lifecycle runs a process in the created cgroup through devices, Pids,
// freeze, stats and kill.
func lifecycle(t *testing.T, m *manager, res *specs.LinuxResources) {
	cmd, out := startInCgroup(t, m)
	checkDevices(t, m, out, cmd)
	checkFreeze(t, m)
	checkStats(t, m, res)
	if err := m.Kill(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil || cmd.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("child ended with %v, want SIGKILL", err)
	}
	waitNoPids(t, m)
}

// checkLimits reads the limits back from the files the kernel shows.
func checkLimits(t *testing.T, m *manager, res *specs.LinuxResources) {
	t.Helper()
	expect := func(ctrl, v1file, v1want, v2file, v2want string) {
		c, v2, err := m.where(ctrl)
		if err != nil {
			t.Errorf("%s: %v", ctrl, err)
			return
		}
		file, want := v1file, v1want
		if v2 {
			file, want = v2file, v2want
		}
		if got, err := c.read(file); got != want || err != nil {
			t.Errorf("%s = %q, %v; want %q", filepath.Join(c.dir, file), got, err, want)
		}
	}
	expect("memory", "memory.limit_in_bytes", "67108864", "memory.max", "67108864")
	expect("memory", "memory.soft_limit_in_bytes", "33554432", "memory.low", "33554432")
	expect("cpu", "cpu.shares", "512", "cpu.weight", "20")
	expect("cpu", "cpu.cfs_quota_us", "50000", "cpu.max", "50000 100000")
	expect("cpuset", "cpuset.cpus", "0", "cpuset.cpus", "0")
	expect("pids", "pids.max", "32", "pids.max", "32")
	if len(res.HugepageLimits) > 0 {
		expect("hugetlb", "hugetlb.2MB.limit_in_bytes", "4194304", "hugetlb.2MB.max", "4194304")
	}
	if d, ok := m.paths["devices"]; ok {
		list, _ := (cg{dir: d}).read("devices.list")
		if !strings.Contains(list, "c 1:3 rwm") || strings.Contains(list, "a *:* rwm") {
			t.Errorf("devices.list = %q", list)
		}
	}
}

// startInCgroup starts a shell in the cgroup (cloned into it on cgroup2,
// moved by Apply otherwise); it waits for a line on stdin, tries two
// devices, then becomes `sleep`.
func startInCgroup(t *testing.T, m *manager) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command("sh", "-c", `read x
true >/dev/null && echo null-ok
true 2>/dev/null >/dev/kmsg && echo kmsg-ok || echo kmsg-denied
exec sleep 60`)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	fd, err := m.CgroupFD()
	if err != nil {
		t.Fatal(err)
	}
	if fd >= 0 {
		defer unix.Close(fd)
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if fd < 0 {
		if err := m.Apply(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewReader(stdout)
}

func checkDevices(t *testing.T, m *manager, out *bufio.Reader, cmd *exec.Cmd) {
	t.Helper()
	var lines []string
	for len(lines) < 2 {
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("child output %q: %v", lines, err)
		}
		lines = append(lines, strings.TrimSpace(line))
	}
	if strings.Join(lines, " ") != "null-ok kmsg-denied" {
		t.Errorf("device access in the cgroup: %q, want null-ok kmsg-denied", lines)
	}
	pids, err := m.Pids()
	if err != nil || !slices.Contains(pids, cmd.Process.Pid) {
		t.Errorf("Pids = %v, %v; want %d among them", pids, err, cmd.Process.Pid)
	}
}

func checkFreeze(t *testing.T, m *manager) {
	t.Helper()
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if p, err := m.Paused(); !p || err != nil {
		t.Errorf("Paused after Freeze = %v, %v", p, err)
	}
	if d, ok := m.paths["freezer"]; ok {
		if s, _ := (cg{dir: d}).read("freezer.state"); s != "FROZEN" {
			t.Errorf("freezer.state = %q", s)
		}
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if p, err := m.Paused(); p || err != nil {
		t.Errorf("Paused after Thaw = %v, %v", p, err)
	}
}

func checkStats(t *testing.T, m *manager, res *specs.LinuxResources) {
	t.Helper()
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.CPU.Usage.Total == 0 {
		t.Errorf("cpu stats = %+v", s.CPU)
	}
	if _, ok := s.Hugetlb["2MB"]; len(res.HugepageLimits) > 0 && !ok {
		t.Errorf("hugetlb stats = %+v", s.Hugetlb)
	}
	if res.Pids != nil && (s.Pids.Current < 1 || s.Pids.Limit != 32) {
		t.Errorf("pids stats = %+v", s.Pids)
	}
	if res.Memory == nil {
		return
	}
	if s.Memory.Usage.Usage == 0 || s.Memory.Usage.Limit != 64<<20 || len(s.Memory.Raw) == 0 {
		t.Errorf("memory stats = %+v", s.Memory.Usage)
	}
	if n, err := m.OOMKills(); n != 0 || err != nil {
		t.Errorf("OOMKills = %d, %v", n, err)
	}
}

func waitNoPids(t *testing.T, m *manager) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		pids, err := m.Pids()
		if err == nil && len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pids left after Kill: %v, %v", pids, err)
		}
	}
}

// destroyAndCheck removes the cgroup and fails if any directory stays.
func destroyAndCheck(t *testing.T, m *manager) {
	if err := m.Destroy(); err != nil {
		t.Errorf("Destroy: %v", err)
	}
	for c, d := range m.Paths() {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%q cgroup %s left behind: %v", c, d, err)
		}
	}
}

// TestHostDeviceFilter attaches the BPF device filter to a real cgroup2
// cgroup (the unified tree of a hybrid host works too), clones a shell into
// it, and checks what it may open; then replaces the filter.
func TestHostDeviceFilter(t *testing.T) {
	requireHost(t)
	l, err := hostLayout()
	if err != nil {
		t.Fatal(err)
	}
	if l.unified == nil {
		t.Skip("no cgroup2 mount")
	}
	c := cg{dir: filepath.Join(l.unified.point, uniqueName("hako-test-bpf-")), log: testLog(t)}
	if err := os.Mkdir(c.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeTree(nil, c.dir); err != nil {
			t.Errorf("remove %s: %v", c.dir, err)
		}
	})
	for _, tt := range []struct {
		cfg  []specs.LinuxDeviceCgroup
		want string
	}{
		{nil, "null-ok kmsg-denied"},
		{[]specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(11)), Access: "w"}}, "null-ok kmsg-ok"},
	} {
		rules, err := deviceRules(tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := attachDeviceFilter(c, rules); err != nil {
			t.Fatal(err)
		}
		if n := attachedFilters(t, c.dir); n != 1 {
			t.Errorf("%d device filters attached, want 1 (the old one detached)", n)
		}
		if got := runCloned(t, c.dir); got != tt.want {
			t.Errorf("rules %v: shell says %q, want %q", tt.cfg, got, tt.want)
		}
	}
}

func attachedFilters(t *testing.T, dir string) int {
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ids, err := attachedDeviceFilters(fd)
	if err != nil {
		t.Fatal(err)
	}
	return len(ids)
}

// runCloned runs a shell cloned straight into dir (CLONE_INTO_CGROUP).
func runCloned(t *testing.T, dir string) string {
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	cmd := exec.Command("sh", "-c", `true >/dev/null && echo null-ok
true 2>/dev/null >/dev/kmsg && echo kmsg-ok || echo kmsg-denied`)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("shell in %s: %v", dir, err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}
