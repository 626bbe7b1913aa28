package cgroups

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestFreezeV1(t *testing.T) {
	f, l := v1Fixture(t, []string{"freezer"})
	m, _ := f.manager(Config{ID: "c1"}, l)
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if p, err := m.Paused(); !p || err != nil {
		t.Errorf("Paused after Freeze = %v, %v", p, err)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if p, err := m.Paused(); p || err != nil {
		t.Errorf("Paused after Thaw = %v, %v", p, err)
	}
	diffLines(t, "writes", f.takeWrites(), prefixed("freezer/hako/c1/", "freezer.state = FROZEN", "freezer.state = THAWED"))
}

func TestFreezeV2(t *testing.T) {
	f, l := v2Fixture(t, nil)
	m, _ := f.manager(Config{ID: "c1"}, l)
	defer func(d time.Duration) { freezeTimeout = d }(freezeTimeout)
	freezeTimeout = 50 * time.Millisecond
	// the fixture's cgroup.events never says frozen: Freeze gives up and thaws
	if err := m.Freeze(); !errors.Is(err, ErrFreezeTimeout) {
		t.Errorf("Freeze = %v, want ErrFreezeTimeout", err)
	}
	diffLines(t, "writes", f.takeWrites(), prefixed("unified/hako/c1/", "cgroup.freeze = 1", "cgroup.freeze = 0"))
	f.files("unified/hako/c1", map[string]string{"cgroup.events": "populated 1\nfrozen 1\n"})
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if p, err := m.Paused(); !p || err != nil {
		t.Errorf("Paused = %v, %v", p, err)
	}
}

func TestKillV2UsesCgroupKill(t *testing.T) {
	f, l := v2Fixture(t, nil)
	m, _ := f.manager(Config{ID: "c1"}, l)
	if err := m.Kill(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	diffLines(t, "writes", f.takeWrites(), []string{"unified/hako/c1/cgroup.kill = 1"})
}

// Kill without cgroup.kill freezes, signals every listed pid, thaws.
func TestKillSignalsPids(t *testing.T) {
	f, l := v1Fixture(t, []string{"freezer", "pids"})
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	f.files("pids/hako/c1", map[string]string{"cgroup.procs": strconv.Itoa(cmd.Process.Pid) + "\n"})
	m, _ := f.manager(Config{ID: "c1"}, l)
	if err := m.Kill(unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil || cmd.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Errorf("sleep ended with %v, want SIGTERM", err)
	}
	diffLines(t, "writes", f.takeWrites(), prefixed("freezer/hako/c1/", "freezer.state = FROZEN", "freezer.state = THAWED"))
}

func TestPidsRecursive(t *testing.T) {
	f, l := v2Fixture(t, nil)
	f.files("unified/hako/c1", map[string]string{"cgroup.procs": "1\n2\n"})
	f.files("unified/hako/c1/sub", map[string]string{"cgroup.procs": "3\n"})
	m, _ := f.manager(Config{ID: "c1"}, l)
	if pids, err := m.Pids(); err != nil || !reflect.DeepEqual(pids, []int{1, 2, 3}) {
		t.Errorf("Pids = %v, %v", pids, err)
	}
}

func TestDestroy(t *testing.T) {
	f := newFixture(t)
	for _, d := range []string{"memory/hako/c1/sub", "pids/hako/c1"} {
		if err := os.MkdirAll(filepath.Join(f.root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := f.manager(Config{ID: "c1"}, f.layout([]string{"memory", "pids", "freezer"}, ""))
	for i := 0; i < 2; i++ { // the second time everything is gone already
		if err := m.Destroy(); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"memory/hako/c1", "pids/hako/c1"} {
		if _, err := os.Stat(filepath.Join(f.root, d)); !os.IsNotExist(err) {
			t.Errorf("%s left: %v", d, err)
		}
	}
	// The parent stays for the next container (see Destroy).
	if _, err := os.Stat(filepath.Join(f.root, "memory/hako")); err != nil {
		t.Errorf("parent removed: %v", err)
	}
}

func TestLoad(t *testing.T) {
	f, l := v2Fixture(t, []string{"pids"})
	m, _ := f.manager(Config{ID: "c1"}, l)
	loaded, err := Load(m.Paths(), f.log)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded.Paths(), m.Paths()) {
		t.Errorf("Paths after Load = %v, want %v", loaded.Paths(), m.Paths())
	}
	if err := loaded.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(7))}}); err != nil {
		t.Fatal(err)
	}
	diffLines(t, "writes", f.takeWrites(), []string{"unified/hako/c1/pids.max = 7"})
	if _, err := Load(nil, nil); err == nil {
		t.Error("Load(nil) succeeded")
	}
}

func TestCgroupFD(t *testing.T) {
	f, l := v2Fixture(t, nil)
	m, _ := f.manager(Config{ID: "c1"}, l)
	fd, err := m.CgroupFD()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		t.Errorf("fd %d is not a directory: %v", fd, err)
	}
	f1, l1 := v1Fixture(t, []string{"memory"})
	m1, _ := f1.manager(Config{ID: "c1"}, l1)
	if fd, err := m1.CgroupFD(); fd != -1 || err != nil {
		t.Errorf("CgroupFD on v1 = %d, %v", fd, err)
	}
}
