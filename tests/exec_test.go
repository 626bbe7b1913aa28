package tests

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// runningCtr starts a detached container running the waiter and returns it
// with its init pid.
func runningCtr(t *testing.T, edits ...func(*specs.Spec)) (*ctr, int) {
	t.Helper()
	c := newCtr(t, append(edits, withSh(waiter))...)
	c.ok(c.withID("run", []string{"-d"})...)
	st := c.waitStatus(specs.StateRunning)
	return c, st.Pid
}

// TestExec joins a running container, with and without a user namespace,
// and checks from inside that the new process shares every namespace of the
// container's init and sees its root, user and environment.
func TestExec(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edits []func(*specs.Spec)
		nss   []string
	}{
		{"plain", nil, []string{"pid", "net", "mnt", "ipc", "uts", "cgroup"}},
		{"userns", []func(*specs.Spec){withUserNS(65536, 65536)}, []string{"pid", "net", "mnt", "ipc", "uts", "cgroup", "user"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, pid := runningCtr(t, tc.edits...)
			var script strings.Builder
			for _, ns := range tc.nss {
				fmt.Fprintf(&script, "readlink /proc/self/ns/%s; ", ns)
			}
			r := c.ok("exec", c.id, "sh", "-c", script.String()+"id; ls /; ps -o pid,args")
			for _, ns := range tc.nss {
				want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(r.out, want) {
					t.Errorf("exec is not in the container's %s namespace %s:\n%s", ns, want, r.out)
				}
			}
			if !strings.Contains(r.out, "uid=0(root) gid=0(root)") || !strings.Contains(r.out, "sleep 30") {
				t.Errorf("exec output lacks root id or the container's processes:\n%s", r.out)
			}
		})
	}
}

func TestExecOptions(t *testing.T) {
	t.Parallel()
	c, _ := runningCtr(t)
	for _, tc := range []struct {
		name        string
		flags, args []string
		want        []string
		code        int
	}{
		{"exit status", nil, []string{"sh", "-c", "exit 7"}, nil, 7},
		{"env cwd user", []string{"--env", "FOO=bar", "--cwd", "/tmp", "--user", "1000:1001", "--additional-gids", "1002"},
			[]string{"sh", "-c", "echo $FOO; pwd; id -u; id -g; id -G"}, []string{"bar\n/tmp\n1000\n1001\n1001 1002\n"}, 0},
		// --cap adds to bounding/effective/permitted/ambient, never inheritable
		// (CVE-2022-29162): CapInh stays 0.
		{"cap", []string{"--cap", "CAP_NET_ADMIN"}, []string{"sh", "-c", "grep -E 'CapInh|CapEff' /proc/self/status"},
			[]string{"CapInh:\t0000000000000000", "CapEff:\t0000000020001420"}, 0},
		{"no new privs", []string{"--no-new-privs"}, []string{"grep", "NoNewPrivs", "/proc/self/status"}, []string{"NoNewPrivs:\t1"}, 0},
	} {
		args := append(append(append([]string{"exec"}, tc.flags...), c.id), tc.args...)
		r := c.hako(args...)
		if r.code != tc.code {
			t.Errorf("%s: exit %d, want %d: %s", tc.name, r.code, tc.code, r)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.out, w) {
				t.Errorf("%s: output %q lacks %q", tc.name, r.out, w)
			}
		}
	}
	r := c.hako("exec", c.id, "/no/such/program")
	if r.code == 0 || !strings.Contains(r.err, "lookup /no/such/program") {
		t.Errorf("exec of a missing program: %s", r)
	}
}

func TestExecDetachAndPidFile(t *testing.T) {
	t.Parallel()
	c, _ := runningCtr(t)
	pidFile := filepath.Join(c.dir, "exec.pid")
	c.ok("exec", "--detach", "--pid-file", pidFile, c.id, "sleep", "20")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	c.seen(pid)
	stat, live := procStat(fmt.Sprintf("/proc/%d", pid))
	if !live || !strings.Contains(stat, "(sleep)") {
		t.Fatalf("pid file %d is not a live sleep: %q", pid, stat)
	}
	r := c.ok("ps", "--format", "json", c.id)
	if !strings.Contains(r.out, strconv.Itoa(pid)) {
		t.Errorf("ps --format json %s lacks the exec'd pid %d", r.out, pid)
	}
}

func TestExecStoppedFails(t *testing.T) {
	t.Parallel()
	c := newCtr(t, withSh("true"))
	c.ok(c.withID("run", []string{"--keep"})...)
	if r := c.hako("exec", c.id, "true"); r.code == 0 || !strings.Contains(r.err, "stopped") {
		t.Errorf("exec into a stopped container: %s", r)
	}
}

// TestExecTTY gets a pty from the container's devpts over a console socket.
func TestExecTTY(t *testing.T) {
	t.Parallel()
	c, _ := runningCtr(t, withUserNS(65536, 65536))
	sock := filepath.Join(c.dir, "exec-console.sock")
	masters := consoleSocket(t, sock)
	p := c.start(nil, "exec", "--tty", "--console-socket", sock, c.id, "sh")
	var got fdOrErr
	select {
	case got = <-masters:
	case <-time.After(10 * time.Second):
		got.err = fmt.Errorf("nothing within 10s")
	}
	if got.err != nil {
		t.Fatalf("no pty master: %v (%s)", got.err, p.wait())
	}
	defer got.f.Close()
	got.f.Write([]byte("tty; exit 4\n"))
	got.f.SetReadDeadline(time.Now().Add(10 * time.Second))
	out, _ := io.ReadAll(got.f)
	if !strings.Contains(string(out), "/dev/pts/") {
		t.Errorf("exec terminal printed %q, want a /dev/pts tty", out)
	}
	if r := p.wait(); r.code != 4 {
		t.Errorf("exec --tty exit %d, want 4: %s", r.code, r)
	}
}

// TestTimerSlack: hako's own threads run with 4 ms of timer slack (fewer
// wake-ups of the Go runtime's sysmon); the container's processes, by run
// and by exec, get the slack hako was started with.
func TestTimerSlack(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile("/proc/self/timerslack_ns")
	if err != nil {
		t.Skip("no timerslack_ns:", err)
	}
	w := strings.TrimSpace(string(want))
	c := newCtr(t, withSh("cat /proc/self/timerslack_ns"))
	if r := c.run(); r.code != 0 || strings.TrimSpace(r.out) != w {
		t.Errorf("run: container's timer slack %q, want hako's caller's %s (%s)", strings.TrimSpace(r.out), w, r)
	}
	rc, _ := runningCtr(t)
	if r := rc.hako("exec", rc.id, "cat", "/proc/self/timerslack_ns"); r.code != 0 || strings.TrimSpace(r.out) != w {
		t.Errorf("exec: process's timer slack %q, want %s (%s)", strings.TrimSpace(r.out), w, r)
	}
}

// TestExecCgroup: `exec --cgroup` puts the process into an existing child
// cgroup of the container's (runc's flag), and refuses paths outside it
// or not made yet.
func TestExecCgroup(t *testing.T) {
	t.Parallel()
	c, pid := runningCtr(t)
	own, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The pids hierarchy on v1 (a flag with a controller), the one
	// hierarchy on v2 (a plain path).
	var st unix.Statfs_t
	v2 := unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
	mnt, flag := "/sys/fs/cgroup/pids", "pids:sub"
	if v2 {
		mnt, flag = "/sys/fs/cgroup", "sub"
	}
	var rel string
	for _, l := range strings.Split(string(own), "\n") {
		if f := strings.SplitN(l, ":", 3); len(f) == 3 && ((v2 && f[1] == "") || (!v2 && f[1] == "pids")) {
			rel = f[2]
		}
	}
	if rel == "" {
		t.Fatalf("no pids cgroup for init in:\n%s", own)
	}
	if err := os.Mkdir(filepath.Join(mnt, rel, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := c.ok("exec", "--cgroup", flag, c.id, "cat", "/proc/self/cgroup")
	if !strings.Contains(r.out, "/sub\n") {
		t.Errorf("exec --cgroup %s: the process is not in the sub-cgroup:\n%s", flag, r.out)
	}
	for arg, want := range map[string]string{"nosuch": "does not exist", "../x": "a path below the container's cgroup"} {
		if r := c.hako("exec", "--cgroup", arg, c.id, "true"); r.code == 0 || !strings.Contains(r.err, want) {
			t.Errorf("exec --cgroup %s: want an error with %q: %s", arg, want, r)
		}
	}
}
