package tests

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestInitBinarySealed: the created container's init is hako-init from a
// sealed memfd. /proc/<init>/exe, which a container process can reach
// (CVE-2019-5736), is held open as an attacker would, init is killed, and
// the handle is reopened for writing: writing must fail (EPERM: the memfd
// is sealed against writes) and the host's binary must not be what init
// ran.
func TestInitBinarySealed(t *testing.T) {
	t.Parallel()
	c := newCtr(t, withSh("true"))
	c.ok(c.withID("create", nil)...)
	st, _ := c.state()
	exe := fmt.Sprintf("/proc/%d/exe", st.Pid)
	// "/memfd:hako-init (deleted)": never a path that names a binary on
	// the host.
	if target, err := os.Readlink(exe); err != nil || target == *hakoBin || !strings.Contains(target, "memfd:hako-init") {
		t.Errorf("init's executable is %q (%v); want hako-init's sealed memfd", target, err)
	}
	held, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	before := make([]byte, 4096)
	n, _ := held.ReadAt(before, 0)
	c.ok("delete", "--force", c.id)
	w, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", held.Fd()), os.O_WRONLY, 0)
	if err == nil {
		_, err = w.WriteAt([]byte("owned"), 0)
		w.Close()
	}
	if !errors.Is(err, unix.EPERM) {
		t.Errorf("reopen %s for writing and write: %v, want EPERM (sealed memfd)", exe, err)
	}
	after := make([]byte, 4096)
	if m, _ := held.ReadAt(after, 0); m != n || string(after[:m]) != string(before[:n]) {
		t.Errorf("init's binary changed")
	}
}

// TestCwdThroughLeakedFd reproduces CVE-2024-21626: hako is handed a host
// directory as fd 7 (not to be preserved) and the config asks for cwd
// /proc/self/fd/7. The process must not start with its cwd on the host.
func TestCwdThroughLeakedFd(t *testing.T) {
	t.Parallel()
	c := newCtr(t, func(s *specs.Spec) { s.Process.Cwd = "/proc/self/fd/7" }, withSh("pwd; ls"))
	dir, err := os.Open(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	null, _ := os.Open(os.DevNull)
	defer null.Close()
	extra := []*os.File{null, null, null, null, dir} // fds 3..7
	r := c.start(extra, c.withID("run", nil)...).wait()
	// hako marks every inherited fd close-on-exec before starting init, so
	// fd 7 is not the host directory in init; were it, the cwd check would
	// refuse it as outside the root. Either way: no run in the host dir.
	if r.code == 0 || strings.Contains(r.out, c.dir) {
		t.Errorf("cwd through a leaked host fd: %s", r)
	}
}

// TestCreateKilledMidway: a `hako create` killed with SIGKILL while init is
// half set up (here: waiting for a slow createRuntime hook) leaves a
// container that `delete --force` removes completely.
func TestCreateKilledMidway(t *testing.T) {
	t.Parallel()
	c := newCtr(t, withSh("true"))
	marker := filepath.Join(c.dir, "hook-ran")
	hook := writeScript(t, filepath.Join(c.dir, "slow.sh"), "#!/bin/sh\ntouch "+marker+"\nsleep 5\n")
	c.edit(withHooks(t, map[string][]specs.Hook{"createRuntime": {{Path: hook}}}))
	p := c.start(nil, c.withID("create", nil)...)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hook never ran: %s", p.wait())
		}
	}
	st, _ := c.state()
	if st.Status != "creating" || st.Pid <= 0 {
		t.Errorf("state during create: %+v", st)
	}
	p.cmd.Process.Kill()
	p.wait()
	c.ok("delete", "--force", c.id) // the cleanup then checks nothing is left
}
