package nsenter_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/initplan"
	"hako/internal/nsenter"
	"hako/internal/spec"
	"hako/internal/syncproto"
	"hako/internal/trace"
)

// The Go/C boundary, end to end: plans compiled by internal/initplan are
// run by the embedded hako-init, and what it writes on the sync socket is
// decoded strictly (no unknown fields) as syncproto messages. The plans are
// exec plans (initplan.CompileExec): they set up the process in the test's
// own namespaces (bounding set, seccomp, uid, capabilities, no_new_privs),
// which touches only the child. Create plans for the mount-side cases run
// in namespaces of the test's making (executor_mount_test.go); whole
// containers run in the e2e suite (tests/).

// execPlan compiles an exec plan for args, with a seccomp filter that makes
// mkdirat fail with EPERM (so the program can tell the filter was loaded).
func execPlan(t *testing.T, args []string) *initplan.Plan {
	t.Helper()
	s := spec.Default()
	s.Process.Terminal = false
	s.Process.Args = args
	s.Process.NoNewPrivileges = true
	s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: ptr(uint(unix.EPERM))}}}
	return compileExec(t, initplan.Config{Spec: s, ID: "executor-test", Bundle: t.TempDir(), Trace: true,
		FifoFd: -1, ConsoleFd: -1, TimerSlack: -1})
}

func compileExec(t *testing.T, c initplan.Config) *initplan.Plan {
	t.Helper()
	h, err := initplan.ProbeExecHost(c.Spec.Process)
	if err != nil {
		t.Fatal(err)
	}
	p, err := initplan.CompileExec(c, h)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ptr[T any](v T) *T { return &v }

// runExecutor starts hako-init on plan and returns every message it sent,
// its stdout and how it exited.
func runExecutor(t *testing.T, plan *initplan.Plan) ([]syncproto.Msg, string, syscall.WaitStatus) {
	t.Helper()
	return runExecutorIn(t, plan, nil)
}

// runExecutorIn is runExecutor with hako-init cloned as attr says (new
// namespaces) and given extra files from fd 5 on.
func runExecutorIn(t *testing.T, plan *initplan.Plan, attr *syscall.SysProcAttr, extra ...*os.File) ([]syncproto.Msg, string, syscall.WaitStatus) {
	t.Helper()
	r := execute(t, plan, attr, extra...)
	return r.msgs, r.out, r.ws
}

// ran is what a run of hako-init gave: its messages, stdout, exit and pid.
type ran struct {
	msgs []syncproto.Msg
	out  string
	ws   syscall.WaitStatus
	pid  int
}

// execute is runExecutorIn returning init's pid too (the host's view: the
// state JSON in the plan is rendered for it, as create does).
func execute(t *testing.T, plan *initplan.Plan, attr *syscall.SysProcAttr, extra ...*os.File) ran {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the plan drops the bounding set and sets capabilities")
	}
	img, err := nsenter.Init()
	if err != nil {
		t.Fatal(err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	parent, child := os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-init")
	defer parent.Close()
	var stdout bytes.Buffer
	cmd := &exec.Cmd{Path: "/proc/self/fd/4", Args: []string{"hako-init"}, Env: []string{"_HAKO_PLAN=3"},
		ExtraFiles: append([]*os.File{child, img}, extra...), Stdout: &stdout, Stderr: os.Stderr, SysProcAttr: attr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child.Close()
	// A stuck executor fails the test instead of hanging it.
	stop := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer stop.Stop()
	// The plan, with the state JSON for init's pid (as create sends it).
	if _, err := parent.Write(plan.Bytes(cmd.Process.Pid)); err != nil {
		t.Fatal(err)
	}
	var msgs []syncproto.Msg
	sc := bufio.NewScanner(parent)
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var m syncproto.Msg
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("hako-init wrote %q: %v", sc.Text(), err)
		}
		msgs = append(msgs, m)
		if m.Type == syncproto.Rlimits {
			// The runtime's part: process.rlimits onto the process.
			lim := unix.Rlimit{Cur: 1024, Max: 1024}
			if err := unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_NOFILE, &lim, nil); err != nil {
				t.Error(err)
			}
			if _, err := parent.Write([]byte(`{"type":"rlimits-ok"}` + "\n")); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if err != nil && ws.ExitStatus() <= 0 {
		t.Fatal(err)
	}
	return ran{msgs, stdout.String(), ws, cmd.Process.Pid}
}

func TestExecutorRunsExecPlan(t *testing.T) {
	blocked := filepath.Join(t.TempDir(), "blocked")
	script := "echo ran as $(id -u); mkdir " + blocked + " 2>/dev/null && echo mkdir allowed || echo mkdir refused; " +
		"grep -E '^(NoNewPrivs|Seccomp|CapBnd|CapEff):' /proc/self/status; grep 'open files' /proc/self/limits"
	msgs, out, ws := runExecutor(t, execPlan(t, []string{"/bin/sh", "-c", script}))
	if ws.ExitStatus() != 0 {
		t.Fatalf("exit %v; output:\n%s\nmessages: %+v", ws, out, msgs)
	}
	// The program ran with what the plan set: uid 0, the seccomp filter
	// (mkdir refused), no_new_privs, the default spec's capabilities.
	// The default spec's RLIMIT_NOFILE 1024, set by the test at "rlimits".
	for _, want := range []string{"ran as 0\n", "Max open files            1024                 1024                 files     \n", "mkdir refused\n", "NoNewPrivs:\t1\n", "Seccomp:\t2\n",
		"CapBnd:\t0000000020000420\n", "CapEff:\t0000000020000420\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("program output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(blocked); err == nil {
		t.Errorf("%s was made: the seccomp filter was not loaded", blocked)
	}
	// The messages: a trace event for every traced step, in plan order
	// (with no_new_privs the filter is loaded last, after ready), the
	// rlimits handshake and ready.
	var steps []string
	ready := false
	for _, m := range msgs {
		switch m.Type {
		case syncproto.Trace:
			if m.Event == nil || m.Event.Step == "" || m.Event.Start.IsZero() || m.Event.Dur < 0 {
				t.Errorf("trace event %+v", m.Event)
				continue
			}
			steps = append(steps, m.Event.Step)
		case syncproto.Ready:
			ready = true
		case syncproto.Rlimits:
		default:
			t.Errorf("unexpected message %+v", m)
		}
	}
	want := "capset bounding,chdir,setuid,capset,prctl,chdir,lookup,close_range,seccomp load,exec"
	if got := strings.Join(steps, ","); got != want {
		t.Errorf("traced steps %s, want %s", got, want)
	}
	if !ready {
		t.Error("no ready message")
	}
}

// A failing step is reported as syncproto's error message: the step, its
// operands and errno, and hako-init exits 1 without running the program.
func TestExecutorReportsFailedStep(t *testing.T) {
	msgs, out, ws := runExecutor(t, execPlan(t, []string{"/nonexistent/hako-test-program"}))
	if ws.ExitStatus() != 1 || out != "" {
		t.Errorf("exit %v, output %q; want exit 1 and no output", ws, out)
	}
	last := msgs[len(msgs)-1]
	if last.Type != syncproto.Error || last.Err == nil {
		t.Fatalf("last message %+v, want an error", last)
	}
	e := last.Err
	if e.Step != "lookup" || e.Operands != "/nonexistent/hako-test-program" || e.Errno != int(unix.ENOENT) {
		t.Errorf("error %+v, want step lookup, operands the program, errno %d", e, unix.ENOENT)
	}
	// As the runtime shows it (syncproto.Conn.Expect turns it into this).
	err := trace.Remote(e.Step, e.Operands, e.Msg, e.Hint, e.Errno)
	if !errors.Is(err, unix.ENOENT) || !strings.HasPrefix(err.Error(), "lookup /nonexistent/hako-test-program: ") {
		t.Errorf("as an error: %v", err)
	}
}
