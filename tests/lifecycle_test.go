package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// waiter is a pid-1 program that stays up until SIGTERM (pid 1 of a pid
// namespace ignores signals it has no handler for, so plain `sleep` would
// not stop on TERM).
const waiter = `trap "exit 143" TERM; echo ready; sleep 30 & wait`

func TestLifecycle(t *testing.T) {
	for _, kill := range []struct {
		name        string
		flags, args []string
	}{
		{"TERM", nil, []string{"TERM"}},
		{"SIGTERM", nil, []string{"SIGTERM"}},
		{"15", nil, []string{"15"}},
		{"default", nil, nil},
		{"all", []string{"--all"}, nil},
		{"all KILL", []string{"--all"}, []string{"KILL"}},
	} {
		t.Run(kill.name, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, withSh(waiter))
			pidFile := filepath.Join(c.dir, "pidfile")
			create := c.start(nil, c.withID("create", []string{"--pid-file", pidFile})...)
			if r := create.wait(); r.code != 0 {
				t.Fatalf("create: %s", r)
			}
			st, _ := c.state()
			if st.Status != specs.StateCreated || st.Pid <= 0 || st.ID != c.id || st.Bundle != c.bundle || st.Version == "" {
				t.Fatalf("state after create: %+v", st)
			}
			if b, err := os.ReadFile(pidFile); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(st.Pid) {
				t.Errorf("pid file %q (%v), state pid %d", b, err, st.Pid)
			}
			c.ok("start", c.id)
			if run, _ := c.state(); run.Status != specs.StateRunning || run.Pid != st.Pid {
				t.Fatalf("state after start: %+v (created pid %d)", run, st.Pid)
			}
			waitOutput(t, create, "ready") // the TERM trap is set
			c.ok(append(append(append([]string{"kill"}, kill.flags...), c.id), kill.args...)...)
			c.waitStatus(specs.StateStopped)
			c.ok("delete", c.id)
			if _, r := c.state(); r.code == 0 {
				t.Errorf("state of a deleted container succeeded: %s", r)
			}
			if r := c.hako("delete", c.id); r.code == 0 {
				t.Errorf("delete of a missing container (no --force) exited 0")
			}
			c.ok("delete", "--force", c.id)
		})
	}
}

func TestDuplicateID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.ctr(withSh(waiter)), e.ctr()
	a.ok(a.withID("create", nil)...)
	st, _ := a.state()
	r := e.hako("create", "--bundle", b.bundle, a.id)
	if r.code == 0 || !strings.Contains(r.err, "exists") {
		t.Errorf("second create of %s: %s", a.id, r)
	}
	if again, _ := a.state(); again.Status != specs.StateCreated || again.Pid != st.Pid || again.Bundle != a.bundle {
		t.Errorf("first container after the refused duplicate: %+v, was %+v", again, st)
	}
}

func TestBadIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.ctr()
	for _, id := range []string{"../../etc", "a/b", "", ".", "..", "a b", strings.Repeat("a", 4096)} {
		for _, verb := range []string{"create", "run"} {
			r := e.hako(verb, "--bundle", c.bundle, id)
			if r.code == 0 || !strings.Contains(r.err, "id") {
				t.Errorf("%s %.40q: want a refusal naming the id: %s", verb, id, r)
			}
		}
	}
	if ents, _ := os.ReadDir(e.root); len(ents) != 0 {
		t.Errorf("refused ids left %v in the state root", ents)
	}
	if _, err := os.Stat(filepath.Join(e.root, "../../etc")); err == nil {
		t.Errorf("%s exists", filepath.Join(e.root, "../../etc"))
	}
}

// TestCreateFailsInInit: a failure inside init reaches the user as one
// error naming the step and its operand, and leaves nothing (the cleanup
// checks state dir, processes, mounts and cgroups).
func TestCreateFailsInInit(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*specs.Spec)
		want []string
	}{
		{"missing program", func(s *specs.Spec) { s.Process.Args = []string{"/nonexistent"} }, []string{"lookup", "/nonexistent"}},
		{"bad mount type", withMount(specs.Mount{Destination: "/mnt", Type: "nosuchfs", Source: "none"}), []string{"mount", "nosuchfs", "/mnt"}},
		{"cwd is a file", func(s *specs.Spec) { s.Process.Cwd = "/etc/passwd" }, []string{"/etc/passwd"}},
		{"missing bind source", withMount(specs.Mount{Destination: "/mnt", Type: "bind", Source: "/nonexistent-src", Options: []string{"bind"}}),
			[]string{"/nonexistent-src"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, tc.edit)
			r := c.hako(c.withID("create", nil)...)
			if r.code == 0 {
				t.Fatalf("create succeeded: %s", r)
			}
			t.Log(r.err)
			for _, w := range append(tc.want, "hako") {
				if !strings.Contains(r.err, w) {
					t.Errorf("error does not name %q: %s", w, r.err)
				}
			}
			if strings.Contains(r.err, "EOF") {
				t.Errorf("error is opaque: %s", r.err)
			}
		})
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.ctr(withSh(waiter)), e.ctr(withSh(waiter))
	a.ok(a.withID("create", nil)...)
	b.ok(b.withID("run", []string{"-d"})...)
	want := map[string]specs.ContainerState{a.id: specs.StateCreated, b.id: specs.StateRunning}
	bundles := map[string]string{a.id: a.bundle, b.id: b.bundle}

	table := strings.Split(strings.TrimSpace(e.ok("list").out), "\n")
	if len(table) != 3 || strings.Join(strings.Fields(table[0]), " ") != "ID PID STATUS BUNDLE CREATED OWNER" {
		t.Fatalf("list table:\n%s", strings.Join(table, "\n"))
	}
	for _, row := range table[1:] {
		f := strings.Fields(row)
		if len(f) < 6 || string(want[f[0]]) != f[2] || bundles[f[0]] != f[3] {
			t.Errorf("list row %q, want status %s", row, want[f[0]])
		}
	}

	var js []specs.State
	if err := json.Unmarshal([]byte(e.ok("list", "--format", "json").out), &js); err != nil || len(js) != 2 {
		t.Fatalf("list --format json: %v, %+v", err, js)
	}
	for _, s := range js {
		if want[s.ID] != s.Status || s.Pid <= 0 || s.Bundle != bundles[s.ID] {
			t.Errorf("list json entry %+v", s)
		}
	}

	q := strings.Fields(e.ok("list", "-q").out)
	sort.Strings(q)
	ids := []string{a.id, b.id}
	sort.Strings(ids)
	if strings.Join(q, " ") != strings.Join(ids, " ") {
		t.Errorf("list -q: %v, want %v", q, ids)
	}
}

// startRun starts foreground `hako run` of script and waits until the
// container printed "ready".
func startRun(t *testing.T, c *ctr, script string) *proc {
	t.Helper()
	c.edit(withSh(script))
	p := c.start(nil, c.withID("run", nil)...)
	waitOutput(t, p, "ready")
	return p
}

// waitOutput waits until the container (whose stdout is p's) printed s.
func waitOutput(t *testing.T, p *proc, s string) {
	t.Helper()
	// 30 s: a memory hog pushed to swap under load can take a while to be
	// OOM-killed before the script goes on (TestCgroupOOM/events once took
	// over 10 s in CI).
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(readAll(p.stdout), s); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			p.cmd.Process.Kill()
			t.Fatalf("container never printed %q: %s", s, p.wait())
		}
	}
}

func TestRunExitStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edits  []func(*specs.Spec)
		script string
		stop   func(c *ctr, p *proc) // nil: the script ends by itself
		want   int
	}{
		{"exit 3", nil, "exit 3", nil, 3},
		// Without a pid namespace sh is not pid 1, so SIGKILL to itself works
		// (a pid namespace's init ignores it from inside, see pid_namespaces(7)).
		{"kill -9 self", []func(*specs.Spec){withoutNamespace(specs.PIDNamespace)}, "kill -9 $$", nil, 137},
		{"hako kill KILL", nil, "echo ready; while :; do sleep 0.1; done",
			func(c *ctr, _ *proc) { c.ok("kill", c.id, "KILL") }, 137},
		{"SIGTERM to hako is forwarded", nil, `trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done`,
			func(_ *ctr, p *proc) { p.cmd.Process.Signal(syscall.SIGTERM) }, 42},
		// Enabled after the first four, once the container runs (see
		// notifyFatal).
		{"SIGUSR1 to hako is forwarded", nil, `trap "exit 43" USR1; echo ready; while :; do sleep 0.1; done`,
			func(_ *ctr, p *proc) { p.cmd.Process.Signal(syscall.SIGUSR1) }, 43},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, tc.edits...)
			var r result
			if tc.stop == nil {
				c.edit(withSh(tc.script))
				r = c.run()
			} else {
				p := startRun(t, c, tc.script)
				st, _ := c.state()
				if st.Status != specs.StateRunning {
					t.Errorf("state during foreground run: %+v", st)
				}
				tc.stop(c, p)
				r = p.wait()
			}
			if r.code != tc.want {
				t.Errorf("run exit status %d, want %d: %s", r.code, tc.want, r)
			}
			if _, s := c.state(); s.code == 0 {
				t.Errorf("foreground run without --keep left the container: %s", s.out)
			}
		})
	}
}

func TestRunKeepAndDetach(t *testing.T) {
	t.Run("keep", func(t *testing.T) {
		t.Parallel()
		c := newCtr(t)
		c.sh("true", "--keep")
		if st, r := c.state(); st.Status != specs.StateStopped {
			t.Errorf("after run --keep: %s", r)
		}
	})
	t.Run("detach", func(t *testing.T) {
		t.Parallel()
		c := newCtr(t, withSh(waiter))
		c.ok(c.withID("run", []string{"-d"})...)
		if st, r := c.state(); st.Status != specs.StateRunning || st.Pid <= 0 {
			t.Errorf("after run -d: %s", r)
		}
	})
}

// TestPreserveFDs: --preserve-fds 1 passes fd 3 (a pipe) into the
// container; any other fd hako inherits (here fd 20) must not reach it.
func TestPreserveFDs(t *testing.T) {
	t.Parallel()
	c := newCtr(t, withSh("echo via-fd3 >&3; ls /proc/self/fd"))
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	extra, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	files := make([]*os.File, 18)
	files[0], files[17] = wr, extra
	p := c.start(files, c.withID("run", []string{"--preserve-fds", "1"})...)
	wr.Close()
	extra.Close()
	r := p.wait()
	if r.code != 0 {
		t.Fatalf("run: %s", r)
	}
	rd.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, _ := rd.Read(buf)
	if string(buf[:n]) != "via-fd3\n" {
		t.Errorf("pipe passed as fd 3 received %q", buf[:n])
	}
	if fds := strings.Fields(r.out); strings.Join(fds, " ") != "0 1 2 3 4" {
		t.Errorf("fds in the container: %v, want 0 1 2 3 and 4 (the directory ls opened)", fds)
	}
}

// TestTrace: --trace shows each kernel-visible step of run.
func TestTrace(t *testing.T) {
	t.Parallel()
	c := newCtr(t, withSh("true"))
	r := c.hako(append([]string{"--trace"}, c.withID("run", nil)...)...)
	if r.code != 0 {
		t.Fatalf("run: %s", r)
	}
	// "[   9.953ms +  0.007ms] init mount            / propagation rslave"
	line := regexp.MustCompile(`(?m)^\[ *[0-9.]+ms \+ *[0-9.]+ms\] (hako|init) +(\S+)`)
	steps := map[string][]string{}
	for _, m := range line.FindAllStringSubmatch(r.err, -1) {
		// One entry per run of a step (the mounts, masks and remounts
		// of a config come in runs whose length the config sets).
		if l := steps[m[1]]; len(l) == 0 || l[len(l)-1] != m[2] {
			steps[m[1]] = append(l, m[2])
		}
	}
	// The whole list of the default config's steps, in order, for each
	// process (the two interleave as they run).
	wantInit := "sethostname link mount mknod symlink pivot_root mask mount unshare mount remount " +
		"capset chdir setuid capset prctl chdir lookup close_range exec"
	wantHako := "hako-init clone init prlimit state cgroup state exited cgroup"
	if got := strings.Join(steps["init"], " "); got != wantInit {
		t.Errorf("init's steps:\n got %s\nwant %s\n%s", got, wantInit, r.err)
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		t.Logf("hako's own steps not compared: the list is this v1-hybrid host's, and this host is cgroup v2: %v", steps["hako"])
		return
	}
	if got := strings.Join(steps["hako"], " "); got != wantHako {
		t.Errorf("hako's steps:\n got %s\nwant %s\n%s", got, wantHako, r.err)
	}
}
