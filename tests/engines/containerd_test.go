package engines

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// containerd is one private containerd 1.6 and a ctr bound to it.
type containerd struct {
	dir, sock, ns string
	ctr           tool
}

// containerdConfig is the daemon's config.toml: everything under dir, and
// no plugin this suite does not use (the CRI plugin only when extra
// configures it).
const containerdConfig = `version = 2
root = "%[1]s/root"
state = "%[1]s/state"
disabled_plugins = [%[2]s"io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "%[1]s/containerd.sock"
[ttrpc]
  address = "%[1]s/containerd.sock.ttrpc"
%[3]s`

// startContainerd starts containerd with its root, state and sockets in a
// fresh directory, imports the test image into a namespace of its own, and
// registers the cleanup that stops it and checks nothing is left: no shim,
// no mount, no cgroup, no runtime state under /run/containerd.
func startContainerd(t *testing.T, cri string) *containerd {
	t.Helper()
	dir, err := os.MkdirTemp("", "hako-containerd-")
	if err != nil {
		t.Fatal(err)
	}
	c := &containerd{dir: dir, sock: dir + "/containerd.sock", ns: uniq("hako-e2e-")}
	disabled := `"io.containerd.grpc.v1.cri", `
	if cri != "" {
		disabled = ""
	}
	conf := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(containerdConfig, dir, disabled, cri)), 0o644); err != nil {
		t.Fatal(err)
	}
	left := &leftovers{
		marks:   []string{dir},
		cgroups: []string{"/sys/fs/cgroup/*/" + c.ns + "/*"},
		parents: []string{"/sys/fs/cgroup/*/" + c.ns, "/run/containerd/runc/" + c.ns},
	}
	t.Cleanup(func() {
		left.check(t)
		os.RemoveAll(dir)
	})
	cmd := exec.Command("containerd", "--config", conf)
	cmd.Env = append(os.Environ(), "TMPDIR="+dir) // where it dumps its stacks
	d := startDaemon(t, dir+"/containerd.log", cmd)
	d.waitSocket(t, c.sock)
	c.ctr = tool{t: t, name: "ctr", args: []string{"--address", c.sock, "--namespace", c.ns}}
	c.ctr.ok("images", "import", imageTar)
	return c
}

// shimSocket is where containerd 1.6's runc v2 shim listens for container
// id (runtime/v2/shim.SocketAddress): outside dir, so checked by path.
func (c *containerd) shimSocket(id string) string {
	sum := sha256.Sum256([]byte(filepath.Join(c.sock, c.ns, id)))
	return fmt.Sprintf("/run/containerd/s/%x", sum)
}

// runArgs are `ctr run` flags that point the runc v2 shim at hako and keep
// ctr's FIFOs in the test's directory.
func (c *containerd) runArgs(flags ...string) []string {
	return append([]string{"run", "--runc-binary", *hakoBin, "--fifo-dir", c.dir + "/fifo"}, flags...)
}

// taskStatus is the STATUS column of `ctr task ls` for id.
func (c *containerd) taskStatus(id string) string {
	c.ctr.t.Helper()
	for _, l := range strings.Split(c.ctr.ok("task", "ls").out, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == id {
			return f[2]
		}
	}
	return ""
}

func TestContainerd(t *testing.T) {
	needRoot(t)
	t.Parallel()
	c := startContainerd(t, "")
	for _, tc := range []struct {
		name string
		f    func(*testing.T, *containerd, string)
	}{
		{"foreground", ctrForeground},
		{"tty", ctrTTY},
		{"detached", ctrDetached},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := uniq("c-")
			c := *c
			c.ctr.t = t
			t.Cleanup(func() {
				if _, err := os.Stat(c.shimSocket(id)); err == nil {
					t.Errorf("leftover: shim socket %s", c.shimSocket(id))
				}
			})
			tc.f(t, &c, id)
		})
	}
}

// ctrForeground: output and exit status come back through the shim, and
// the container sees no fd beyond stdio (the shim hands the runtime more).
func ctrForeground(t *testing.T, c *containerd, id string) {
	r := c.ctr.run(c.runArgs("--rm", imageRef, id, "sh", "-c", "echo hello from $(cat /proc/1/comm); ls /proc/self/fd; exit 3")...)
	if r.code != 3 {
		t.Errorf("ctr run exited %d, want 3: %s", r.code, r)
	}
	wantOut(t, "ctr run", r.out, "hello from sh\n")
	if fds := strings.Fields(strings.TrimPrefix(r.out, "hello from sh\n")); strings.Join(fds, " ") != "0 1 2 3" {
		t.Errorf("container has fds %v, want only stdio and ls's own (0 1 2 3)", fds)
	}
}

// ctrTTY: `ctr run -t` through a pty; the shim gets the pty master from
// hako over --console-socket.
func ctrTTY(t *testing.T, c *containerd, id string) {
	p := startPty(t, nil, "ctr", append(append(c.ctr.args, c.runArgs("--rm", "-t")...), imageRef, id, "sh")...)
	p.expect("# ")
	p.send("echo tty-$((6*7)); tty; exit 3\r")
	code, out := p.wait()
	if code != 3 {
		t.Errorf("ctr run -t exited %d, want 3; terminal:\n%s", code, out)
	}
	wantOut(t, "ctr run -t", out, "tty-42", "/dev/pts/0")
}

// waiter runs until SIGTERM, then exits 7.
const waiter = `trap "exit 7" TERM; while :; do sleep 0.1; done`

// ctrDetached: run -d, exec with and without a terminal, ps, pause and
// resume (checked in the freezer cgroup), kill, delete.
func ctrDetached(t *testing.T, c *containerd, id string) {
	c.ctr.ok(c.runArgs("-d", imageRef, id, "sh", "-c", waiter)...)
	t.Cleanup(func() {
		c.ctr.run("task", "delete", "--force", id)
		c.ctr.run("container", "delete", id)
	})
	if s := c.taskStatus(id); s != "RUNNING" {
		t.Fatalf("task status %q, want RUNNING", s)
	}

	r := c.ctr.run("task", "exec", "--exec-id", "e1", "--fifo-dir", c.dir+"/fifo", id, "sh", "-c", "echo exec in $(cat /proc/1/comm); exit 4")
	if r.code != 4 || r.out != "exec in sh\n" {
		t.Errorf("ctr task exec: want exit 4 and %q: %s", "exec in sh\n", r)
	}

	p := startPty(t, nil, "ctr", append(c.ctr.args, "task", "exec", "-t", "--exec-id", "e2", "--fifo-dir", c.dir+"/fifo", id, "sh")...)
	p.expect("# ")
	p.send("echo exec-tty-$((6*7)); tty; exit 5\r")
	if code, out := p.wait(); code != 5 || !strings.Contains(out, "exec-tty-42") || !strings.Contains(out, "/dev/pts/") {
		t.Errorf("ctr task exec -t: exit %d, want 5, and tty-42 and a /dev/pts/ name; terminal:\n%s", code, out)
	}

	pid := ""
	for _, l := range strings.Split(c.ctr.ok("task", "ls").out, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == id {
			pid = f[1]
		}
	}
	ps := c.ctr.ok("task", "ps", id).out
	if pid == "" || !strings.Contains(ps, "\n"+pid+" ") {
		t.Errorf("ctr task ps does not list the task's pid %q:\n%s", pid, ps)
	}

	freezer := fmt.Sprintf("/sys/fs/cgroup/freezer/%s/%s/freezer.state", c.ns, id)
	c.ctr.ok("task", "pause", id)
	if s := c.taskStatus(id); s != "PAUSED" {
		t.Errorf("after pause: task status %q, want PAUSED", s)
	}
	if s := strings.TrimSpace(readFile(freezer)); s != "FROZEN" {
		t.Errorf("after pause: %s is %q, want FROZEN", freezer, s)
	}
	c.ctr.ok("task", "resume", id)
	if s := c.taskStatus(id); s != "RUNNING" {
		t.Errorf("after resume: task status %q, want RUNNING", s)
	}
	if s := strings.TrimSpace(readFile(freezer)); s != "THAWED" {
		t.Errorf("after resume: %s is %q, want THAWED", freezer, s)
	}

	c.ctr.ok("task", "kill", id)
	waitFor(t, "the task to stop after SIGTERM", func() (bool, string) {
		s := c.taskStatus(id)
		return s == "STOPPED", "status " + s
	})
	c.ctr.ok("task", "delete", id)
	c.ctr.ok("container", "delete", id)
	if out := c.ctr.ok("task", "ls").out; strings.Contains(out, id) {
		t.Errorf("task still listed after delete:\n%s", out)
	}
}
