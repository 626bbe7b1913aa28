package tests

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func withSeccomp(sc *specs.LinuxSeccomp) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Linux.Seccomp = sc }
}

func errnoRet(v uint) *uint { return &v }

// TestSeccomp loads profiles into real containers and checks the kernel
// enforces them, for init's program and for exec'd processes.
func TestSeccomp(t *testing.T) {
	t.Parallel()
	deny := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno},
			// umask(0777) only: an argument condition.
			{Names: []string{"umask"}, Action: specs.ActErrno, ErrnoRet: errnoRet(1),
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0o777, Op: specs.OpEqualTo}}},
		},
	}
	c := newCtr(t, withSeccomp(deny), func(s *specs.Spec) {
		s.Root.Readonly = false
		s.Process.NoNewPrivileges = false // load before the uid change, with CAP_SYS_ADMIN
	}, withSh(waiter))
	c.ok(c.withID("run", []string{"-d"})...)
	c.waitStatus(specs.StateRunning)
	r := c.hako("exec", c.id, "sh", "-c", "mkdir /tmp/d; echo mkdir=$?; touch /tmp/f && echo touch-ok; grep Seccomp: /proc/self/status")
	if !strings.Contains(r.out, "Operation not permitted") && !strings.Contains(r.err, "Operation not permitted") {
		t.Errorf("mkdir under a deny rule: %s", r)
	}
	if !strings.Contains(r.out, "touch-ok") || !strings.Contains(r.out, "Seccomp:\t2") {
		t.Errorf("filter not in mode 2 or touch denied: %s", r)
	}
	// The init program has the filter too.
	pidOut := c.ok("exec", c.id, "grep", "Seccomp:", "/proc/1/status")
	if !strings.Contains(pidOut.out, "Seccomp:\t2") {
		t.Errorf("init's program has no filter: %s", pidOut)
	}
}

// TestSeccompDockerDefault runs a shell under Docker's default profile (the
// copy the seccomp package tests use).
func TestSeccompDockerDefault(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../internal/seccomp/testdata/docker-default.json")
	if err != nil {
		t.Skip("no docker default profile:", err)
	}
	var sc specs.LinuxSeccomp
	if err := json.Unmarshal(b, &sc); err != nil {
		t.Fatal(err)
	}
	c := newCtr(t, withSeccomp(&sc))
	out := c.sh("echo hi; ls / >/dev/null && echo ls-ok; grep Seccomp: /proc/self/status; unshare -U true 2>&1 || echo unshare-denied")
	for _, want := range []string{"hi", "ls-ok", "Seccomp:\t2", "unshare-denied"} {
		if !strings.Contains(out, want) {
			t.Errorf("docker default profile: output %q lacks %q", out, want)
		}
	}
}

// TestSeccompNotify: with SCMP_ACT_NOTIFY rules the agent at listenerPath
// gets the listener fd and the container state, as runc sends them.
func TestSeccompNotify(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sc := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow, ListenerPath: sock, ListenerMetadata: "test-meta",
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdirat", "mkdir"}, Action: specs.ActNotify}},
	}
	c := newCtr(t, withSeccomp(sc), func(s *specs.Spec) { s.Root.Readonly = false },
		withSh("sleep 0.5; mkdir /tmp/n; echo rc=$?"))
	id := c.id
	got := make(chan string, 1)
	go func() {
		conn, err := ln.AcceptUnix()
		if err != nil {
			got <- "accept: " + err.Error()
			return
		}
		defer conn.Close()
		f, msg, err := recvFdMsg(conn)
		if err != nil {
			got <- "recv: " + err.Error()
			return
		}
		f.Close() // the kernel then fails notified syscalls with ENOSYS
		// runc's seccomp agent message: the fd's name and the state.
		var st specs.ContainerProcessState
		if err := json.Unmarshal(msg, &st); err != nil || len(st.Fds) != 1 || st.Fds[0] != specs.SeccompFdName ||
			st.Metadata != "test-meta" || st.Pid <= 0 || st.State.Pid != st.Pid || st.State.ID != id ||
			st.State.Status != specs.StateCreating {
			got <- fmt.Sprintf("state %s (%v)", msg, err)
			return
		}
		got <- "fd received"
	}()
	var r result
	done := make(chan struct{})
	go func() {
		r = c.run()
		close(done)
	}()
	select {
	case g := <-got:
		if g != "fd received" {
			t.Fatalf("agent: %s", g)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the agent never got the listener fd")
	}
	<-done
	if !strings.Contains(r.out+r.err, "rc=1") {
		t.Errorf("mkdir after the agent closed its fd should fail: %s", r)
	}
}
