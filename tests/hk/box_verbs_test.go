package hk

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// -d, logs, ps, stop with the image's stop signal, exit code, rm.
func TestBoxDetached(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	h.ok("import", "--change", `CMD ["sh"]`, "--change", "STOPSIGNAL USR1", imgWrite(t, imgRootfsTar(t)), "det")
	id := strings.TrimSpace(h.ok("run", "-d", "--name", "web", "det", "sh", "-c",
		"trap 'echo bye; exit 7' USR1; echo started; echo oops >&2; while true; do sleep 0.1; done").out)
	if len(id) != 64 {
		t.Fatalf("run -d printed %q, want a 64-digit ID", id)
	}
	boxWaitLog(t, h, "web", "started")
	boxWaitLog(t, h, "web", "oops")
	if r := h.ok("ps"); !strings.Contains(r.out, id[:12]) || !strings.Contains(r.out, "Up ") || !strings.Contains(r.out, "web") {
		t.Errorf("ps: %s", r)
	}
	if r := h.ok("ps", "-q"); r.out != id[:12]+"\n" {
		t.Errorf("ps -q: %q", r.out)
	}
	if r := h.ok("container", "ls", "-q"); r.out != id[:12]+"\n" {
		t.Errorf("container ls -q: %q", r.out)
	}
	if r := h.ok("ps", "--format", "{{.Names}} {{.State}}"); r.out != "web running\n" {
		t.Errorf("ps --format: %q", r.out)
	}
	h.ok("start", "web") // already running: no error, as Docker
	// The runtime's own list (its default root) never shows hk's
	// containers: their state is under hk's --runroot.
	if out, _ := exec.Command(*hakoBin, "list", "-q").Output(); strings.Contains(string(out), id) {
		t.Errorf("hako list shows hk's container: %s", out)
	}
	r := h.ok("logs", "web")
	if r.out != "started\n" || r.err != "oops\n" {
		t.Errorf("logs: %s", r)
	}
	h.ok("stop", "web")
	if r := h.ok("wait", "web"); r.out != "7\n" {
		t.Errorf("wait: %q", r.out)
	}
	if r := h.ok("ps", "-a"); !strings.Contains(r.out, "Exited (7)") {
		t.Errorf("ps -a: %s", r)
	}
	if r := h.ok("ps"); strings.Contains(r.out, "web") {
		t.Errorf("ps lists an exited container: %s", r)
	}
	if r := h.ok("logs", "--tail", "1", "web"); r.out != "bye\n" {
		t.Errorf("logs --tail 1: %q", r.out)
	}
	if r := h.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.Config.StopSignal}}", "web"); r.out != "exited 7 USR1\n" {
		t.Errorf("inspect: %q", r.out)
	}
	h.ok("rm", "web")
	// --trace with -d: the steps of _create (and init's) reach hk's
	// stderr; the container's log holds only the container's output.
	r = h.ok("--trace", "run", "-d", "--name", "traced", "det", "echo", "only-this")
	if !strings.Contains(r.err, "mount overlay") || !strings.Contains(r.err, "start monitor") || !strings.Contains(r.err, "init ") {
		t.Errorf("--trace run -d: %s", r)
	}
	h.ok("wait", "traced")
	if r := h.ok("logs", "traced"); r.out != "only-this\n" || r.err != "" {
		t.Errorf("log of a traced run: %s", r)
	}
	h.ok("rm", "traced")
	// --rm with -d: the monitor removes it when it exits.
	h.ok("run", "-d", "--rm", "--name", "gone", "det", "true")
	boxNothingLeft(t, h, "")
}

// create, start -a, start, exec (-e -u -w), top, stats, pause, unpause,
// kill -s, restart, logs -f, rm -f, and the monitor's own state.
func TestBoxVerbs(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	img := boxImage(t, h, "verbs")
	id := strings.TrimSpace(h.ok("create", "--name", "once", img, "echo", "created-then-run").out)
	if r := h.ok("ps", "-a"); !strings.Contains(r.out, "Created") {
		t.Errorf("ps -a after create: %s", r)
	}
	if r := h.ok("start", "-a", "once"); r.out != "created-then-run\n" {
		t.Errorf("start -a: %s", r)
	}
	if r := h.ok("start", "-a", id[:8]); r.out != "created-then-run\n" {
		t.Errorf("second start -a by ID prefix: %s", r)
	}
	h.ok("rm", "once")
	// inspect: a name that is no container is looked up as an image.
	if r := h.ok("inspect", "-f", "{{.RepoTags}}", img); !strings.Contains(r.out, img) {
		t.Errorf("inspect of an image: %s", r)
	}

	h.ok("run", "-d", "-m", "32m", "--name", "svc", img, "sh", "-c", "echo up; while true; do sleep 0.1; done")
	boxWaitLog(t, h, "svc", "up")
	r := h.ok("exec", "-e", "X=1", "-w", "/tmp", "-u", "nobody", "svc", "sh", "-c", "echo $X; pwd; id -un")
	if r.out != "1\n/tmp\nnobody\n" {
		t.Errorf("exec: %s", r)
	}
	if r := h.runIn([]byte("piped in"), "exec", "-i", "svc", "cat"); r.out != "piped in" {
		t.Errorf("exec -i: %s", r)
	}
	if r := h.runIn([]byte("not read"), "exec", "svc", "cat"); r.out != "" || r.code != 0 {
		t.Errorf("exec without -i reads nothing: %s", r)
	}
	if r := h.run("exec", "svc", "sh", "-c", "exit 3"); r.code != 3 {
		t.Errorf("exec exit code: %s", r)
	}
	if r := h.run("exec", "svc", "/nonexistent"); r.code != 127 {
		t.Errorf("exec of a missing program: %s", r)
	}
	if r := h.ok("top", "svc"); !strings.Contains(r.out, "while true") {
		t.Errorf("top: %s", r)
	}
	r = h.ok("stats", "--no-stream", "svc")
	if !strings.Contains(r.out, "MEM USAGE / LIMIT") || !strings.Contains(r.out, "/ 32MiB") {
		t.Errorf("stats: %s", r)
	}
	h.ok("pause", "svc")
	if r := h.ok("ps"); !strings.Contains(r.out, "(Paused)") {
		t.Errorf("ps while paused: %s", r)
	}
	if r := h.ok("inspect", "-f", "{{.State.Status}}", "svc"); r.out != "paused\n" {
		t.Errorf("inspect while paused: %q", r.out)
	}
	h.ok("unpause", "svc")
	h.ok("restart", "-t", "1", "svc")
	if r := h.ok("inspect", "-f", "{{.State.Status}}", "svc"); r.out != "running\n" {
		t.Errorf("after restart: %q", r.out)
	}
	for deadline := time.Now().Add(20 * time.Second); strings.Count(h.ok("logs", "svc").out, "up\n") < 2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the restarted container never logged")
		}
	}
	// logs -f ends when the container does.
	f := exec.Command(hkBin(), "--root", h.root, "--runroot", h.runroot, "logs", "-f", "svc")
	out := tempFile(t)
	f.Stdout = out
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	h.ok("kill", "-s", "TERM", "svc") // sh as pid 1 ignores TERM
	time.Sleep(300 * time.Millisecond)
	if r := h.ok("inspect", "-f", "{{.State.Status}}", "svc"); r.out != "running\n" {
		t.Errorf("after kill -s TERM: %q", r.out)
	}
	h.ok("kill", "svc")
	if r := h.ok("wait", "svc"); r.out != "137\n" {
		t.Errorf("wait after kill: %q", r.out)
	}
	if err := f.Wait(); err != nil {
		t.Errorf("logs -f: %v", err)
	}
	if got := readFile(out.Name()); strings.Count(got, "up\n") != 2 {
		t.Errorf("logs -f printed %q, want the two runs' output", got)
	}
	h.ok("start", "svc")
	h.fails([]string{"stop the container before removing"}, "rm", "svc")
	h.ok("rm", "-f", "svc")
	boxNothingLeft(t, h, "")
}

// The monitor: a detached container outlives the command that started it
// (already covered), and its monitor is small and is init's parent.
func TestBoxMonitor(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	img := boxImage(t, h, "mon")
	h.ok("run", "-d", "--name", "m", img, "sleep", "100")
	pid := strings.TrimSpace(h.ok("inspect", "-f", "{{.State.Pid}}", "m").out)
	// `run -d` returns once _create has reported, a moment before it
	// exits and init is handed to the monitor.
	var ppid string
	var comm []byte
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st, err := os.ReadFile("/proc/" + pid + "/status")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(st), "\n") {
			if v, ok := strings.CutPrefix(l, "PPid:"); ok {
				ppid = strings.TrimSpace(v)
			}
		}
		comm, _ = os.ReadFile("/proc/" + ppid + "/comm")
		if string(comm) == "hako-mon\n" || time.Now().After(deadline) {
			break
		}
	}
	if string(comm) != "hako-mon\n" {
		t.Errorf("init's parent %s is %q, want hako-mon", ppid, comm)
	}
	rollup, _ := os.ReadFile("/proc/" + ppid + "/smaps_rollup")
	for _, l := range strings.Split(string(rollup), "\n") {
		if v, ok := strings.CutPrefix(l, "Rss:"); ok {
			kb, _ := strconv.Atoi(strings.Fields(v)[0])
			t.Logf("hako-mon RSS %d kB", kb)
			if kb > 1024 {
				t.Errorf("hako-mon RSS %d kB, want under 1 MiB", kb)
			}
		}
	}
	// A monitor killed with the container still running: ps still tells
	// the truth (running), rm -f still works.
	p, _ := strconv.Atoi(ppid)
	syscall.Kill(p, syscall.SIGKILL)
	if r := h.ok("inspect", "-f", "{{.State.Status}}", "m"); r.out != "running\n" {
		t.Errorf("after the monitor died: %q", r.out)
	}
	h.ok("rm", "-f", "m")
	boxNothingLeft(t, h, "")
}

// SIGKILL of hk in the middle of run or rm: the next command works and
// cleans up.
func TestBoxSIGKILL(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	img := boxImage(t, h, "killme")
	parent := boxCgroupParent(t)
	for i, delay := range []time.Duration{0, 20 * time.Millisecond, 60 * time.Millisecond, 150 * time.Millisecond, 500 * time.Millisecond,
		10 * time.Millisecond, 40 * time.Millisecond, 100 * time.Millisecond} {
		args := []string{"--root", h.root, "--runroot", h.runroot, "run", "--name", "k" + strconv.Itoa(i), "--cgroup-parent", parent, img, "sleep", "30"}
		if i >= 5 { // the detached path: killed before, while or after hako-mon starts
			args = append(args[:5], append([]string{"-d"}, args[5:]...)...)
		}
		cmd := exec.Command(hkBin(), args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Kill()
		cmd.Wait()
		rm := exec.Command(hkBin(), "--root", h.root, "--runroot", h.runroot, "rm", "-f", "k"+strconv.Itoa(i))
		rm.Start()
		time.Sleep(delay / 4)
		rm.Process.Kill()
		rm.Wait()
		// whatever is left, the next commands finish
		if r := h.run("rm", "-f", "k"+strconv.Itoa(i)); r.code != 0 && !strings.Contains(r.err, "no such container") {
			t.Errorf("rm -f after SIGKILLs (delay %v): %s", delay, r)
		}
		if r := h.ok("run", "--rm", img, "echo", "ok"); r.out != "ok\n" {
			t.Errorf("run after SIGKILLs: %s", r)
		}
	}
	boxNothingLeft(t, h, parent)
}

// Each bad input gets a clear error and leaves nothing behind: no
// record, directory, runtime state, mount, process or cgroup (every run
// here puts its cgroup under a parent of the test's own).
func TestBoxBadInput(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	img := boxImage(t, h, "bad")
	parent := boxCgroupParent(t)
	id := strings.TrimSpace(h.ok("run", "-d", "--cgroup-parent", parent, "--name", "taken", img, "sleep", "100").out)
	if _, err := os.Stat("/sys/fs/cgroup/pids" + parent + "/" + id); err != nil {
		t.Errorf("--cgroup-parent: %v", err)
	}
	for _, tc := range []struct {
		want []string
		args []string
	}{
		{[]string{"127.0.0.1:1/nosuch:latest", "pull"}, []string{"run", "127.0.0.1:1/nosuch:latest"}},
		{[]string{"already in use"}, []string{"run", "--name", "taken", img, "true"}},
		{[]string{"unknown flag: --bogus"}, []string{"run", "--bogus", img, "true"}},
		{[]string{"bind source path does not exist", "/nonexistent-hk-src"}, []string{"run", "-v", "/nonexistent-hk-src:/x", img, "true"}},
		{[]string{"range of CPUs"}, []string{"run", "--cpus", "1000", img, "true"}},
		{[]string{"cpuset"}, []string{"run", "--cpuset-cpus", "250", img, "true"}},
		{[]string{"minimum memory limit"}, []string{"run", "-m", "1k", img, "true"}},
		{[]string{"invalid volume specification"}, []string{"run", "-v", "relative:/x", img, "true"}},
		{[]string{"no such network: nosuchnet"}, []string{"run", "--network", "nosuchnet", img, "true"}},
		{[]string{"invalid port \"80/sctp\""}, []string{"run", "-p", "80/sctp", img, "true"}},
		{[]string{"published ports need a bridge network"}, []string{"run", "--network", "none", "-p", "80", img, "true"}},
		{[]string{"unable to find user nosuchuser"}, []string{"run", "-u", "nosuchuser", img, "true"}},
		{[]string{"no such container"}, []string{"rm", "nosuch"}},
		{[]string{"no such container"}, []string{"stop", "nosuch"}},
		{[]string{"no such object"}, []string{"inspect", "nosuch"}},
	} {
		args := tc.args
		if args[0] == "run" {
			args = append([]string{"run", "--cgroup-parent", parent}, args[1:]...)
		}
		r := h.fails(tc.want, args...)
		if tc.args[0] == "run" && r.code != 125 && r.code != 2 {
			t.Errorf("%q: exit %d, want 125 (or 2 for usage)", tc.args, r.code)
		}
	}
	h.ok("rm", "-f", "taken")
	boxNothingLeft(t, h, parent)
}

// The copy fallback (driver vfs, where overlayfs cannot be mounted): the
// root is a copy of the layers, the container's writes survive a restart,
// rm removes it all.
func TestBoxVfs(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	img := boxImage(t, h, "vfs")
	h.ok("run", "-d", "--storage-driver", "vfs", "--name", "v", img, "sh", "-c", "echo kept > /root/f; echo ready; sleep 100")
	boxWaitLog(t, h, "v", "ready")
	if r := h.ok("inspect", "-f", "{{.Driver}}", "v"); r.out != "vfs\n" {
		t.Errorf("driver: %q", r.out)
	}
	h.ok("stop", "-t", "0", "v")
	h.ok("start", "v")
	if r := h.ok("exec", "v", "cat", "/root/f"); r.out != "kept\n" {
		t.Errorf("after restart: %s", r)
	}
	h.ok("rm", "-f", "v")
	boxNothingLeft(t, h, "")
}

// -dit: the monitor holds the terminal, so an interactive shell stays up
// (the common `docker run -dit IMAGE sh` then `docker exec`), and what is
// written to the terminal is in the log.
func TestBoxDetachedTTY(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	img := boxImage(t, h, "tty")
	h.ok("run", "-dit", "--name", "shell", img, "sh")
	h.ok("run", "-dt", "--name", "term", img, "sh", "-c", "tty; echo on-tty; sleep 100")
	boxWaitLog(t, h, "term", "on-tty")
	if r := h.ok("logs", "term"); !strings.HasPrefix(r.out, "/dev/pts/0") {
		t.Errorf("logs of a -t container: %q", r.out)
	}
	time.Sleep(200 * time.Millisecond)
	if r := h.ok("exec", "shell", "readlink", "/proc/1/fd/0"); r.out != "/dev/pts/0\n" {
		t.Errorf("the -dit shell's stdin: %s", r)
	}
	if r := h.ok("inspect", "-f", "{{.State.Status}} {{.Config.Tty}}", "shell"); r.out != "running true\n" {
		t.Errorf("-dit shell: %q", r.out)
	}
	h.ok("rm", "-f", "shell", "term")
	boxNothingLeft(t, h, "")
}
