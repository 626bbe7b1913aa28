package nsenter_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/initplan"
	"hako/internal/spec"
	"hako/internal/syncproto"
)

// Hooks and seccomp notify, run by the executor on compiled plans:
// createContainer and startContainer hooks (a create plan, in a new mount
// namespace, on a busybox root) and seccomp notify (an exec plan). The
// state JSON they get is compared byte for byte with the runtime-spec's
// (specs.State, specs.ContainerProcessState as runc sends it), written
// out here.

// busyboxRoot is mountRootfs with the applets the hooks use and a
// world-writable /tmp.
func busyboxRoot(t *testing.T) string {
	t.Helper()
	root := mountRootfs(t)
	must(t, os.Mkdir(filepath.Join(root, "tmp"), 0o755))
	must(t, os.Chmod(filepath.Join(root, "tmp"), 0o1777))
	for _, applet := range []string{"cat", "id", "sleep", "echo"} {
		must(t, os.Symlink("busybox", filepath.Join(root, "bin", applet)))
	}
	return root
}

// createPlan compiles the create plan of a container in a new mount
// namespace only (no mounts, masks or devices: the hooks are what is
// tested), running args as uid 1000 after the hooks.
func createPlan(t *testing.T, root string, hooks *specs.Hooks, args ...string) (*initplan.Plan, initplan.Config) {
	t.Helper()
	s := spec.Default()
	s.Root = &specs.Root{Path: root}
	s.Mounts, s.Hooks, s.Hostname = nil, hooks, ""
	s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	s.Linux.MaskedPaths, s.Linux.ReadonlyPaths, s.Linux.Devices = nil, nil, nil
	s.Annotations = map[string]string{"org.example/hook": "yes"}
	s.Process.Terminal, s.Process.Args = false, args
	s.Process.User = specs.User{UID: 1000, GID: 1000}
	c := initplan.Config{Spec: s, ID: "executor-hooks", Bundle: filepath.Dir(root), Rootfs: root, Trace: true,
		FifoFd: -1, ConsoleFd: -1, TimerSlack: -1}
	h, err := initplan.ProbeHost(c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := initplan.Compile(c, h)
	if err != nil {
		t.Fatal(err)
	}
	return p, c
}

// hookState is the runtime-spec state a hook of createPlan's container
// reads on stdin, for init's pid.
func hookState(c initplan.Config, pid int) string {
	return fmt.Sprintf(`{"ociVersion":%q,"id":"executor-hooks","status":"created","pid":%d,"bundle":%q,"annotations":{"org.example/hook":"yes"}}`,
		specs.Version, pid, c.Bundle)
}

// TestExecutorRunsHooks: createContainer runs before pivot_root (it
// writes to a host directory outside the root) as root, startContainer
// after it (it writes to the container's /tmp) as the container's user;
// both with their args and only their env, the state on stdin, and before
// the program.
func TestExecutorRunsHooks(t *testing.T) {
	root := busyboxRoot(t)
	hostLog := t.TempDir()
	// Only the hook's env: not hako-init's (_HAKO_PLAN).
	script := `cat > "$1"; { echo; echo "args=$0,$2 env=$HOOK_ENV,$_HAKO_PLAN uid=$(id -u)"; } >> "$1"`
	hooks := &specs.Hooks{
		CreateContainer: []specs.Hook{{Path: root + "/bin/sh", Args: []string{"sh", "-c", script, "create", hostLog + "/create", "x"},
			Env: []string{"HOOK_ENV=c"}, Timeout: ptr(10)}},
		StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", script, "start", "/tmp/start", "y"},
			Env: []string{"HOOK_ENV=s"}}},
	}
	p, c := createPlan(t, root, hooks, "/bin/sh", "-c", "echo program ran; cat /tmp/start")
	r := execute(t, p, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS})
	msgs, out, pid := r.msgs, r.out, r.pid // no pid namespace: the host's pid is the test's
	if r.ws.ExitStatus() != 0 {
		t.Fatalf("exit %v; output:\n%s\nmessages: %+v", r.ws, out, msgs)
	}
	created, err := os.ReadFile(filepath.Join(hostLog, "create"))
	if err != nil {
		t.Fatalf("the createContainer hook left no log outside the root: %v", err)
	}
	want := hookState(c, pid) + "\nargs=create,x env=c, uid=0\n"
	if string(created) != want {
		t.Errorf("createContainer hook wrote\n%s\nwant\n%s", created, want)
	}
	want = "program ran\n" + hookState(c, pid) + "\nargs=start,y env=s, uid=1000\n"
	if out != want {
		t.Errorf("program output (the startContainer hook's log last)\n%s\nwant\n%s", out, want)
	}
	var steps []string
	for _, m := range msgs {
		if m.Type == syncproto.Trace && (m.Event.Step == "hook" || m.Event.Step == "pivot_root" || m.Event.Step == "exec") {
			steps = append(steps, m.Event.Step+" "+m.Event.Operands)
		}
	}
	wantSteps := "hook createContainer[0] " + root + "/bin/sh, pivot_root " + root + ", hook startContainer[0] /bin/sh, exec /bin/sh -c echo program ran; cat /tmp/start"
	if got := strings.Join(steps, ", "); got != wantSteps {
		t.Errorf("steps %s\nwant %s", got, wantSteps)
	}
}

// TestExecutorHookFailures: a hook that fails, times out or cannot be
// executed stops init before the program, naming the hook.
func TestExecutorHookFailures(t *testing.T) {
	root := busyboxRoot(t)
	for _, tc := range []struct {
		name  string
		hook  specs.Hook
		msg   string
		errno unix.Errno
	}{
		{"fails", specs.Hook{Path: root + "/bin/sh", Args: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}}, "exit status 3: out\nerr", 0},
		{"times out", specs.Hook{Path: root + "/bin/sleep", Args: []string{"sleep", "10"}, Timeout: ptr(1)}, "timed out after 1s", 0},
		{"missing", specs.Hook{Path: root + "/no-such-hook"}, "exec " + root + "/no-such-hook: No such file or directory", unix.ENOENT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := createPlan(t, root, &specs.Hooks{CreateContainer: []specs.Hook{tc.hook}}, "/bin/echo", "program ran")
			r := execute(t, p, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS})
			if r.ws.ExitStatus() != 1 || r.out != "" {
				t.Errorf("exit %v, output %q; want exit 1 and no output", r.ws, r.out)
			}
			last := r.msgs[len(r.msgs)-1]
			if last.Type != syncproto.Error || last.Err == nil {
				t.Fatalf("last message %+v, want an error", last)
			}
			e := last.Err
			if e.Step != "hook" || e.Operands != "createContainer[0] "+tc.hook.Path || e.Msg != tc.msg || e.Errno != int(tc.errno) {
				t.Errorf("error %+v, want step hook, operands createContainer[0] %s, message %q, errno %d", e, tc.hook.Path, tc.msg, tc.errno)
			}
		})
	}
}

// TestExecutorSeccompNotify: the filter's listener fd goes to the socket
// connected to listenerPath with runc's state (status creating, init's
// pid, listenerMetadata), before ready; the agent closing it fails the
// notified syscall (ENOSYS), which shows the fd was the filter's.
func TestExecutorSeccompNotify(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	agentEnd, initEnd := os.NewFile(uintptr(fds[0]), "agent"), os.NewFile(uintptr(fds[1]), "listener")
	defer agentEnd.Close()
	conn, err := net.FileConn(agentEnd)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	type got struct {
		payload string
		err     error
	}
	agent := make(chan got, 1)
	go func() {
		buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := conn.(*net.UnixConn).ReadMsgUnix(buf, oob)
		if err == nil {
			var msgs []unix.SocketControlMessage
			if msgs, err = unix.ParseSocketControlMessage(oob[:oobn]); err == nil && len(msgs) == 1 {
				var fds []int
				if fds, err = unix.ParseUnixRights(&msgs[0]); err == nil {
					for _, fd := range fds {
						unix.Close(fd)
					}
				}
			}
		}
		agent <- got{string(buf[:n]), err}
	}()
	s := spec.Default()
	s.Process.Terminal, s.Process.NoNewPrivileges = false, true
	s.Process.Args = []string{"/bin/sh", "-c", "mkdir " + filepath.Join(t.TempDir(), "d") + " 2>&1; echo rc=$?"}
	s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/agent.sock", ListenerMetadata: "meta",
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify}}}
	c := initplan.Config{Spec: s, ID: "executor-notify", Bundle: t.TempDir(), Trace: true, FifoFd: -1, ConsoleFd: -1,
		TimerSlack: -1, ListenerFd: 5}
	r := execute(t, compileExec(t, c), nil, initEnd)
	initEnd.Close()
	if r.ws.ExitStatus() != 0 || !strings.Contains(r.out, "rc=1") || !strings.Contains(r.out, "not implemented") {
		t.Errorf("exit %v, output %q; want mkdir to fail with ENOSYS once the agent closed the listener", r.ws, r.out)
	}
	g := <-agent
	if g.err != nil {
		t.Fatalf("agent: %v", g.err)
	}
	want := fmt.Sprintf(`{"ociVersion":%q,"fds":["seccompFd"],"pid":%d,"metadata":"meta","state":{"ociVersion":%q,"id":"executor-notify","status":"creating","pid":%d,"bundle":%q}}`,
		specs.Version, r.pid, specs.Version, r.pid, c.Bundle)
	if g.payload != want {
		t.Errorf("agent got\n%s\nwant\n%s", g.payload, want)
	}
	var steps []string
	for _, m := range r.msgs {
		if m.Type == syncproto.Trace {
			steps = append(steps, m.Event.Step)
		} else if m.Type == syncproto.Ready {
			steps = append(steps, "(ready)")
		}
	}
	if got := strings.Join(steps, ","); !strings.Contains(got, "seccomp load,seccomp notify,setuid") || !strings.Contains(got, "(ready)") {
		t.Errorf("steps %s: want the listener sent before setuid and ready", got)
	}
}
