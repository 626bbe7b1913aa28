package tests

// One reproducer per runc escape bug, run against hako (see
// docs/security.md). Where Debian's runc 1.1.5 is still vulnerable the same
// reproducer runs against it too and must succeed there, so no test here
// passes only because its attack never worked. Every "escape" touches only
// files in the test's own temp dir or the container's own namespaces.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// privateHako copies hako into dir, for a test that must run a binary no
// other test executes (no ETXTBSY from them, nothing shared to damage); it
// returns the copy's path and content.
func privateHako(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	bin := filepath.Join(dir, "hako-copy")
	b, err := os.ReadFile(*hakoBin)
	if err == nil {
		err = os.WriteFile(bin, b, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	return bin, b
}

// startCmd runs cmd like env.start runs hako: stdout and stderr to files.
func (e *env) startCmd(cmd *exec.Cmd) *proc {
	e.t.Helper()
	p := &proc{cmd: cmd, cancel: func() {}, stdout: e.tempFile("stdout"), err: e.tempFile("stderr")}
	cmd.Stdout, cmd.Stderr = p.stdout, p.err
	// ETXTBSY: a private copy just written may still be open for writing
	// in a child that another test forked meanwhile and that has not
	// exec'd yet (Go issue 22315); it lasts a moment.
	err := cmd.Start()
	for try := 0; errors.Is(err, syscall.ETXTBSY) && try < 50; try++ {
		time.Sleep(20 * time.Millisecond)
		c := exec.Command(cmd.Path, cmd.Args[1:]...)
		c.Env, c.Dir, c.Stdin, c.Stdout, c.Stderr, c.ExtraFiles, c.SysProcAttr = cmd.Env, cmd.Dir, cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.ExtraFiles, cmd.SysProcAttr
		cmd, p.cmd = c, c
		err = cmd.Start()
	}
	if err != nil {
		e.t.Fatalf("start %s: %v", cmd.Path, err)
	}
	return p
}

// runc is a container run by Debian's runc 1.1.5 from a bundle made like
// hako's (ctr), with its own state root. Its cleanup force-deletes it and
// checks nothing is left, as ctr's does.
type runc struct {
	*ctr
	root string
}

// newRunc skips unless runc is installed.
func newRunc(t *testing.T, edits ...func(*specs.Spec)) *runc {
	t.Helper()
	if _, err := exec.LookPath("runc"); err != nil {
		t.Skip("runc is not installed: the reproducer runs against hako only")
	}
	c := newCtr(t, edits...)
	r := &runc{ctr: c, root: filepath.Join(c.dir, "runc-root")}
	t.Cleanup(func() {
		if res := r.cmd(nil, "delete", "--force", c.id); res.code != 0 {
			t.Errorf("cleanup: runc delete --force %s: %s", c.id, res)
		}
		// runc 1.1.5 leaves the cgroup of a create that failed (the race
		// reproducers fail many on purpose): its bug, not hako's, so it is
		// noted and swept; the rest is checked as for hako.
		for _, pat := range []string{"/sys/fs/cgroup/*/" + c.id, "/sys/fs/cgroup/" + c.id} {
			m, _ := filepath.Glob(pat)
			for _, d := range m {
				if os.Remove(d) == nil {
					t.Logf("runc left cgroup %s (removed)", d)
				}
			}
		}
		checkGone(t, r.root, c.id, c.bundle, c.pids)
	})
	return r
}

// cmd runs `runc --root R args...`; extra become fds 3, 4, ...
func (r *runc) cmd(extra []*os.File, args ...string) result {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "runc", append([]string{"--root", r.root}, args...)...)
	cmd.ExtraFiles = extra
	return r.startCmd(cmd).wait()
}

// runcRefuses runs the reproducer against runc 1.1.5 where it is fixed, to
// back what docs/security.md says: runc refuses the config too.
func runcRefuses(t *testing.T, prep func(t *testing.T, c *ctr), want string) {
	t.Run("runc 1.1.5 (fixed)", func(t *testing.T) {
		t.Parallel()
		r := newRunc(t)
		prep(t, r.ctr)
		if res := r.cmd(nil, "run", "--bundle", r.bundle, r.id); res.code == 0 || !strings.Contains(res.err, want) {
			t.Errorf("runc: want a refusal with %q: %s", want, res)
		}
	})
}

// statePid is the container's init pid from `state` (hako or runc).
func statePid(t *testing.T, out string) int {
	var st specs.State
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("state output is not JSON: %v: %s", err, out)
	}
	return st.Pid
}

// nsPid is pid's number in its innermost pid namespace (NSpid's last field).
func nsPid(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(statusFields(string(b))["NSpid"])
	if len(f) == 0 {
		t.Fatalf("no NSpid for %d", pid)
	}
	return f[len(f)-1]
}

// outputScript runs script in the container (root writable) with its output sent
// to /tmp/out in the rootfs: runc 1.1.5 reopens stdio through the
// container's /dev/null, which some reproducers replace.
func outputScript(script string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Root.Readonly = false
		withSh("exec >/tmp/out 2>&1; " + script)(s)
	}
}

func readOut(t *testing.T, c *ctr) string {
	b, _ := os.ReadFile(filepath.Join(c.bundle, "rootfs", "tmp", "out"))
	return string(b)
}

// raceMu lets one swapper run at a time: each keeps a CPU busy. The race
// tests are not parallel with the rest either: on a busy machine runc
// loses its races too often for a test to wait for it.
var raceMu sync.Mutex

// swapper exchanges two paths with renameat2(RENAME_EXCHANGE) in a tight
// loop, as a second container sharing the directory would: the symlink
// races of CVE-2019-19921, CVE-2021-30465, CVE-2024-45310 and
// CVE-2025-52565. Stop ends it and returns how many swaps it made; during
// says whether any swap happened while a runtime worked, so that a race
// in which nothing moved is not counted as won (requireRaced).
func swapper(t *testing.T, a, b string) *swaps {
	t.Helper()
	raceMu.Lock()
	s := &swaps{}
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !done.Load() {
			if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err != nil {
				t.Errorf("swap %s and %s: %v", a, b, err)
				return
			}
			s.n.Add(1)
		}
	}()
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			done.Store(true)
			wg.Wait()
			if s.n.Load()%2 == 1 { // leave both where they were
				unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
			}
			raceMu.Unlock()
		})
	}
	t.Cleanup(s.stop)
	return s
}

type swaps struct {
	n     atomic.Int64
	stop  func()
	raced int // runs during which a swap happened
	runs  int
}

// Stop ends the swapping and returns how many swaps were made.
func (s *swaps) Stop() int {
	s.stop()
	return int(s.n.Load())
}

// during runs fn (one runtime's attempt) and counts it as raced if the
// paths were swapped at least once meanwhile.
func (s *swaps) during(fn func()) {
	before := s.n.Load()
	fn()
	s.runs++
	if s.n.Load() > before {
		s.raced++
	}
}

// requireRaced skips a test whose attempts all ran without a swap: then it
// proved nothing about the race (the swapper never got a CPU).
func (s *swaps) requireRaced(t *testing.T) {
	t.Helper()
	if s.runs > 0 && s.raced == 0 {
		t.Skipf("none of %d attempts overlapped a swap (%d swaps in all): the race was not run; unproven this run", s.runs, s.n.Load())
	}
}

// raceTries and raceTime bound each race against runc: on an idle 2-CPU
// machine it loses within a few dozen tries.
const (
	raceTries = 200
	raceTime  = 10 * time.Second
)

// runcWon reports a race runc never lost: an error when it had all its
// tries (the reproducer does not work), a skip when the time ran out first
// (the machine was too busy to race on).
func runcWon(t *testing.T, runs int, what string) {
	t.Helper()
	if runs >= raceTries {
		t.Errorf("runc never %s in %d tries: the reproducer does not work", what, runs)
		return
	}
	t.Skipf("runc never %s in %d tries within %v: too busy a machine to race on; unproven this run", what, runs, raceTime)
}

// sharedVolume makes the host directory a second container would share:
// dir vol/x and symlink vol/x.link -> target (an absolute host path in the
// test's temp dir), ready for swapper.
func sharedVolume(t *testing.T, c *ctr, target string) (vol string) {
	t.Helper()
	vol = filepath.Join(c.dir, "vol")
	for _, d := range []string{filepath.Join(vol, "x"), target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(target, filepath.Join(vol, "x.link")); err != nil {
		t.Fatal(err)
	}
	return vol
}

// raceTargets are the mount points below the swapped /v/x: two levels to
// make (MkdirAllHandle in hako) and one (mkdirat in the parent's fd).
func raceTargets(n int) []string {
	var l []string
	for i := 0; i < n; i++ {
		l = append(l, fmt.Sprintf("x/d%d/sub", i), fmt.Sprintf("x/e%d", i))
	}
	return l
}

// withRaceMounts binds vol on /v, then asks for tmpfs mounts on
// raceTargets(n) below it.
func withRaceMounts(vol string, n int) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/v", Type: "bind", Source: vol, Options: []string{"bind", "rw"}})
		for _, p := range raceTargets(n) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/v/" + p, Type: "tmpfs", Source: "tmpfs"})
		}
	}
}

func entries(dir string) []string {
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			names = append(names, strings.TrimPrefix(p, dir))
		}
		return nil
	})
	return names
}

// mountDump adds a createContainer hook that copies the container's
// mountinfo, as seen before pivot_root (host paths), to the returned file:
// evidence of where the runtime mounted things even when it fails later.
func mountDump(t *testing.T, c *ctr) (dump string) {
	t.Helper()
	dump = filepath.Join(c.dir, "mountinfo")
	hook := writeScript(t, filepath.Join(c.dir, "dump.sh"), "#!/bin/sh\n/bin/cat /proc/self/mountinfo > "+dump+"\n")
	c.edit(withHooks(t, map[string][]specs.Hook{"createContainer": {{Path: hook}}}))
	return dump
}

// mountedAt reads a mountDump and returns the fs type mounted at path.
func mountedAt(dump, path string) string {
	b, _ := os.ReadFile(dump)
	os.Remove(dump)
	return parseMountinfo(string(b))[path].fstype
}

// TestCVE_2019_5736: the container makes the runtime execute itself inside
// the container (an exec'd program "update" is a "#!/proc/self/exe"
// script), to open /proc/PID/exe of that process and later reopen it for
// writing, overwriting the host's runtime binary. The process that
// executes "update" is hako-init, so /proc/self/exe is hako-init's sealed
// memfd, never hako: without hako's environment it exits at once, before
// an attacker can hold it (TestInitBinarySealed holds one and shows it
// cannot be written). The exec is done by a copy of hako in the test's
// temp dir, so a failure could only touch that copy. runc 1.1.5 is fixed
// (it runs from a sealed memfd copy since 1.0.0-rc6).
func TestCVE_2019_5736(t *testing.T) {
	t.Parallel()
	c, _ := runningCtr(t, func(s *specs.Spec) { s.Root.Readonly = false })
	evil := filepath.Join(c.bundle, "rootfs", "evil")
	if err := os.Mkdir(evil, 0o755); err != nil {
		t.Fatal(err)
	}
	writeScript(t, filepath.Join(evil, "update"), "#!/proc/self/exe\n")
	bin, b := privateHako(t, c.dir)
	cmd := exec.Command(bin, "--root", c.root, "exec", "--cwd", "/evil", "--env", "PATH=.", c.id, "update", "-r", "-", c.id)
	if res := c.startCmd(cmd).wait(); res.code == 0 || !strings.Contains(res.err, "hako-init: started without") {
		t.Errorf("#!/proc/self/exe from `hako exec` ran something other than hako-init: %s", res)
	}
	if after, _ := os.ReadFile(bin); string(after) != string(b) {
		t.Errorf("%s changed", bin)
	}
}

// TestCVE_2016_9962: a process already in the container reads the fds of
// the runtime's init while it still holds host resources. In runc before
// 1.0.0-rc3 an exec'd init, joining a container, could be ptraced by the
// container's pid 1 (its state dir fd, the host's files). Here container B
// joins A's pid namespace; B's init, caps already dropped to the
// container's and waiting for `start` with exec.fifo and the sync socket
// open, is visible to A. hako's init is non-dumpable until execve: A gets
// EACCES. After start, B's program is an ordinary dumpable process, and the
// same probe reads its fds: the probe works.
func TestCVE_2016_9962(t *testing.T) {
	t.Parallel()
	a, aPid := runningCtr(t)
	b := a.env.ctr(withSh(waiter), withoutNamespace(specs.PIDNamespace), func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace, Path: fmt.Sprintf("/proc/%d/ns/pid", aPid)})
	})
	b.ok(b.withID("create", nil)...)
	st, _ := b.state()
	probe := fmt.Sprintf("ls -l /proc/%s/fd/ 2>&1; cat /proc/%s/environ 2>&1 | head -c 200", nsPid(t, st.Pid), nsPid(t, st.Pid))
	r := a.ok("exec", a.id, "sh", "-c", probe)
	if !strings.Contains(r.out, "Permission denied") || strings.Contains(r.out, "exec.fifo") || strings.Contains(r.out, "socket:") {
		t.Errorf("container A read init %d of B (in A's pid namespace) before start:\n%s", st.Pid, r.out)
	}
	b.ok("start", b.id)
	if r := a.ok("exec", a.id, "sh", "-c", probe); strings.Contains(r.out, "Permission denied") || !strings.Contains(r.out, " 0 -> ") {
		t.Errorf("control: A cannot read B's started (dumpable) process either; the probe proves nothing:\n%s", r.out)
	}
}

// TestCVE_2019_16884: a volume (a host directory an image filled) is
// mounted over /proc, as Docker does for an image with VOLUME /proc, so the
// runtime's later writes and lookups in /proc hit files the image chose.
// runc before 1.0.0-rc9 wrote the AppArmor label there. hako writes no
// label; until 7621965 it mounted the masked and read-only paths through
// /proc/self/fd/N and read /proc/self/setgroups after pivot_root (found by
// this test). Secure outcomes: the mount is refused (runc refuses any
// non-proc mount on or inside /proc), or the container is unaffected.
func TestCVE_2019_16884(t *testing.T) {
	t.Parallel()
	t.Run("volume on /proc", func(t *testing.T) {
		t.Parallel()
		// fakeproc/self/fd/N -> /tmp/redirected: where hako's post-pivot
		// mounts through /proc/self/fd/N go.
		prep := func(t *testing.T, c *ctr) {
			fake := filepath.Join(c.dir, "fakeproc")
			if err := os.MkdirAll(filepath.Join(fake, "self", "fd"), 0o755); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 64; i++ {
				os.Symlink("/tmp/redirected", filepath.Join(fake, "self", "fd", fmt.Sprint(i)))
			}
			os.Mkdir(filepath.Join(c.bundle, "rootfs", "tmp", "redirected"), 0o755)
			c.edit(withSh(`echo firmware: $(ls /sys/firmware); stat -c "%n on dev %D" /tmp/redirected /`),
				withMount(specs.Mount{Destination: "/proc", Type: "bind", Source: fake, Options: []string{"rbind"}}))
		}
		t.Run("hako", func(t *testing.T) {
			t.Parallel()
			c := newCtr(t)
			prep(t, c)
			r := c.run()
			lines := strings.Split(r.out, "\n")
			if r.code == 0 && (len(lines) < 3 || lines[0] != "firmware:" || strings.Fields(lines[1])[3] != strings.Fields(lines[2])[3]) {
				t.Errorf("the masked /sys/firmware is visible, or a tmpfs went where the fake /proc/self/fd/N pointed:\n%s", r)
			}
			if r.code != 0 && !strings.Contains(r.err, "/proc") {
				t.Errorf("refusal does not name /proc: %s", r)
			}
		})
		runcRefuses(t, prep, "cannot be mounted because it is not of type proc")
	})
	t.Run("file inside /proc", func(t *testing.T) {
		t.Parallel()
		// A file saying "deny" over /proc/self/setgroups: hako then skips
		// setgroups(2), and the process keeps hako's caller's groups.
		prep := func(t *testing.T, c *ctr) {
			deny := filepath.Join(c.dir, "setgroups")
			if err := os.WriteFile(deny, []byte("deny\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			c.edit(withSh("id -G"), func(s *specs.Spec) { s.Process.User = specs.User{UID: 1000, GID: 1000} },
				withMount(specs.Mount{Destination: "/proc/self/setgroups", Type: "bind", Source: deny, Options: []string{"bind", "ro"}}))
		}
		t.Run("hako", func(t *testing.T) {
			t.Parallel()
			c := newCtr(t)
			prep(t, c)
			cmd := exec.Command(*hakoBin, append([]string{"--root", c.root}, c.withID("run", nil)...)...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Groups: []uint32{0, 4242}}}
			r := c.startCmd(cmd).wait()
			if r.code == 0 && r.out != "1000\n" {
				t.Errorf("uid 1000 with no additionalGids has groups %q: the caller's groups 0 and 4242 leaked:\n%s", r.out, r)
			}
			if r.code != 0 && !strings.Contains(r.err, "/proc") {
				t.Errorf("refusal does not name /proc: %s", r)
			}
		})
		runcRefuses(t, prep, "cannot be mounted because it is inside /proc")
	})
}

// TestCVE_2019_19921 swaps the rootfs's /proc between a directory and a
// symlink while the runtime mounts procfs. A runtime that checks the path
// and then resolves it again to mount can be made to mount procfs
// elsewhere (CVE-2019-19921; its regression CVE-2023-27561 is the static
// form, see below), and then writes LSM labels through whatever /proc has
// become. runc 1.1.5 checks with lstat, then resolves again with
// securejoin: still racy. hako resolves /proc once, checks that handle is
// a directory at exactly /proc, and mounts on the handle.
func TestCVE_2019_19921(t *testing.T) {
	// Not parallel with the other tests: see raceMu.
	// The symlink's target exists both on the host and inside the rootfs
	// (same absolute path), so the runtime's checks on either side pass;
	// the createContainer hook's mountinfo shows where procfs went.
	race := func(t *testing.T, c *ctr, tries int, create, cleanup func() result) (hits, runs int) {
		rootfs := filepath.Join(c.bundle, "rootfs")
		target := filepath.Join(c.dir, "fakeproc")
		for _, d := range []string{target, filepath.Join(rootfs, target)} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink(target, filepath.Join(rootfs, "proc.link")); err != nil {
			t.Fatal(err)
		}
		c.edit(withSh("true"))
		dump := mountDump(t, c)
		sw := swapper(t, filepath.Join(rootfs, "proc"), filepath.Join(rootfs, "proc.link"))
		outcomes := map[string]int{}
		for deadline := time.Now().Add(raceTime); runs < tries && hits == 0 && time.Now().Before(deadline); runs++ {
			var r result
			sw.during(func() { r = create() })
			if fs := mountedAt(dump, filepath.Join(rootfs, target)); fs != "" {
				hits++
				t.Logf("attempt %d: %s mounted on %s through the symlink", runs, fs, target)
			}
			msg := strings.TrimSpace(r.err)
			if i := strings.LastIndex(msg, ": "); i > 0 {
				msg = msg[i+2:]
			}
			outcomes[fmt.Sprintf("exit %d %.60s", r.code, msg)]++
			cleanup()
		}
		t.Logf("%d swaps; outcomes of %d creates (%d raced): %v", sw.Stop(), runs, sw.raced, outcomes)
		if hits == 0 {
			sw.requireRaced(t)
		}
		return hits, runs
	}
	t.Run("hako", func(t *testing.T) {
		t.Parallel()
		c := newCtr(t)
		if hits, runs := race(t, c, 8, func() result { return c.hako(c.withID("create", nil)...) },
			func() result { return c.hako("delete", "--force", c.id) }); hits > 0 {
			t.Errorf("hako mounted proc through the swapped symlink in %d of %d creates", hits, runs)
		}
	})
	t.Run("runc 1.1.5", func(t *testing.T) {
		t.Parallel()
		r := newRunc(t)
		if hits, runs := race(t, r.ctr, raceTries, func() result { return r.cmd(nil, "create", "--bundle", r.bundle, r.id) },
			func() result { return r.cmd(nil, "delete", "--force", r.id) }); hits == 0 {
			runcWon(t, runs, "mounted proc through the symlink")
		}
	})
}

// TestCVE_2023_27561: the image's /proc (or /sys) is a symlink to another
// directory of the rootfs. runc 1.0.0-rc95 to 1.1.4 mounted procfs through
// it (a regression of CVE-2019-19921), so a later write to /proc/self/attr
// went to a file the image chose. hako refuses proc and sysfs on anything
// but a real directory at exactly the configured path.
func TestCVE_2023_27561(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"proc", "sys"} {
		prep := func(t *testing.T, c *ctr) {
			rootfs := filepath.Join(c.bundle, "rootfs")
			os.Remove(filepath.Join(rootfs, dir))
			os.Mkdir(filepath.Join(rootfs, "fake"+dir), 0o755)
			if err := os.Symlink("/fake"+dir, filepath.Join(rootfs, dir)); err != nil {
				t.Fatal(err)
			}
			c.edit(withSh("true"))
		}
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			t.Run("hako", func(t *testing.T) {
				t.Parallel()
				c := newCtr(t)
				prep(t, c)
				fs := map[string]string{"proc": "proc", "sys": "sysfs"}[dir]
				want := fmt.Sprintf("/%s is a symlink to /fake%s: %s must be mounted on a real directory", dir, dir, fs)
				if r := c.run(); r.code == 0 || !strings.Contains(r.err, want) {
					t.Errorf("want a refusal with %q: %s", want, r)
				}
			})
			runcRefuses(t, prep, "must be mounted on ordinary directory")
		})
	}
}

// TestCVE_2023_28642: /proc in the image is a symlink into a volume (a host
// directory other containers share). runc up to 1.1.4 mounted procfs there
// and wrote the AppArmor/SELinux label through it, so the label was never
// applied. hako has no LSM labels to lose, and refuses the mount anyway.
func TestCVE_2023_28642(t *testing.T) {
	t.Parallel()
	prep := func(t *testing.T, c *ctr) {
		vol := filepath.Join(c.dir, "vol")
		rootfs := filepath.Join(c.bundle, "rootfs")
		os.MkdirAll(filepath.Join(vol, "proc"), 0o755)
		os.Remove(filepath.Join(rootfs, "proc"))
		if err := os.Symlink("/vol/proc", filepath.Join(rootfs, "proc")); err != nil {
			t.Fatal(err)
		}
		// The volume comes first, so the symlink leads somewhere when /proc
		// is mounted.
		c.edit(withSh("true"), func(s *specs.Spec) {
			s.Mounts = append([]specs.Mount{{Destination: "/vol", Type: "bind", Source: vol, Options: []string{"bind"}}}, s.Mounts...)
		})
	}
	t.Run("hako", func(t *testing.T) {
		t.Parallel()
		c := newCtr(t)
		prep(t, c)
		want := "/proc is a symlink to /vol/proc: proc must be mounted on a real directory"
		if r := c.run(); r.code == 0 || !strings.Contains(r.err, want) {
			t.Errorf("want a refusal with %q: %s", want, r)
		}
	})
	runcRefuses(t, prep, "must be mounted on ordinary directory")
}

// TestCVE_2021_30465 races a shared volume's directory against a symlink to
// a host directory while the runtime mounts tmpfs below it. runc before
// 1.0.0-rc95 resolved the target with securejoin and then mounted the path
// string, which the kernel resolved through the symlink swapped in
// meanwhile: the mount landed on the host's directory. runc 1.1.5 is fixed
// (it opens the target and checks the fd's path: WithProcfd). hako mounts
// on the fd it resolved inside the rootfs (openat2 RESOLVE_IN_ROOT).
func TestCVE_2021_30465(t *testing.T) {
	// Not parallel with the other tests: see raceMu.
	c := newCtr(t, withSh("true"))
	rootfs := filepath.Join(c.bundle, "rootfs")
	escape := filepath.Join(c.dir, "escape")
	vol := sharedVolume(t, c, escape)
	const n = 10
	for _, p := range raceTargets(n) { // every target exists: only the mount is at stake
		p = strings.TrimPrefix(p, "x/")
		for _, base := range []string{filepath.Join(vol, "x"), escape, filepath.Join(rootfs, escape)} {
			os.MkdirAll(filepath.Join(base, p), 0o755)
		}
	}
	c.edit(withRaceMounts(vol, n))
	dump := mountDump(t, c)
	sw := swapper(t, filepath.Join(vol, "x"), filepath.Join(vol, "x.link"))
	created := 0
	for i := 0; i < 4; i++ {
		var r result
		sw.during(func() { r = c.hako(c.withID("create", nil)...) })
		if r.code == 0 {
			created++
		} else {
			t.Logf("create %d: %s", i, strings.TrimSpace(r.err))
		}
		b, _ := os.ReadFile(dump)
		os.Remove(dump)
		for p, m := range parseMountinfo(string(b)) {
			if strings.HasPrefix(p, escape+"/") {
				t.Errorf("create %d: %s mounted on the host's %s through the swapped symlink", i, m.fstype, p)
			}
		}
		c.hako("delete", "--force", c.id)
	}
	t.Logf("%d swaps, %d of 4 creates succeeded, %d raced", sw.Stop(), created, sw.raced)
	sw.requireRaced(t)
}

// TestCVE_2024_45310 races a shared volume's directory against a symlink to
// a host directory while the runtime creates mount points below it. runc
// up to 1.1.13 resolved the path with securejoin, then os.MkdirAll'd the
// string, which follows the symlink swapped in meanwhile: empty directories
// appear on the host. hako creates every directory by fd inside the rootfs,
// one component at a time (hako-init's open_dir).
func TestCVE_2024_45310(t *testing.T) {
	// Not parallel with the other tests: see raceMu.
	attempt := func(t *testing.T, c *ctr, tries int, create func() result, cleanup func()) (escaped []string, runs int) {
		escape := filepath.Join(c.dir, "escape")
		vol := sharedVolume(t, c, escape)
		c.edit(withSh("true"), withRaceMounts(vol, 10))
		sw := swapper(t, filepath.Join(vol, "x"), filepath.Join(vol, "x.link"))
		defer sw.Stop()
		for deadline := time.Now().Add(raceTime); runs < tries && time.Now().Before(deadline); runs++ {
			var r result
			sw.during(func() { r = create() })
			t.Logf("attempt %d: exit %d %s", runs, r.code, strings.TrimSpace(r.err))
			cleanup()
			if escaped = entries(escape); len(escaped) > 0 {
				return escaped, runs + 1
			}
		}
		sw.requireRaced(t)
		return nil, runs
	}
	t.Run("hako", func(t *testing.T) {
		t.Parallel()
		c := newCtr(t)
		escaped, runs := attempt(t, c, 6, func() result { return c.hako(c.withID("create", nil)...) },
			func() { c.hako("delete", "--force", c.id) })
		if len(escaped) > 0 {
			t.Errorf("hako created %v on the host through the swapped symlink (attempt %d)", escaped, runs)
		}
	})
	t.Run("runc 1.1.5", func(t *testing.T) {
		t.Parallel()
		r := newRunc(t)
		escaped, runs := attempt(t, r.ctr, raceTries, func() result { return r.cmd(nil, "create", "--bundle", r.bundle, r.id) },
			func() { r.cmd(nil, "delete", "--force", r.id) })
		if len(escaped) == 0 {
			runcWon(t, runs, "made a directory on the host")
		}
		t.Logf("runc created %v on the host after %d attempts", escaped, runs)
	})
}

// TestCVE_2024_21626: a directory fd of the host reaches the container's
// init (runc 1.0.0-rc93..1.1.11 leaked its own /sys/fs/cgroup handle as fd
// 7 or 8), and the image's process.cwd or process.args go through
// /proc/self/fd/N: the process starts with its cwd on the host, or runs a
// host binary (whose /proc/self/exe it can then open for writing). hako's
// CLI marks every inherited fd close-on-exec before it spawns anything, and
// init checks the cwd is inside the root after chdir. (Before 7621965 only
// init's close-on-exec just before execve guarded the args, too late: the
// args cases ran the host's binary.) Debian's runc 1.1.5+ds1-1+deb12u1
// carries the upstream fix: it refuses all of these.
func TestCVE_2024_21626(t *testing.T) {
	t.Parallel()
	// Init's own fds at chdir time: the sync socket, exec.fifo, the sealed
	// binary, and (fd 6) an O_PATH handle of the host's /proc/PID/fd, which
	// chdir enters and the cwd check then refuses.
	t.Run("cwd through hako's own fds", func(t *testing.T) {
		for fd := 3; fd <= 12; fd++ {
			t.Run(fmt.Sprint(fd), func(t *testing.T) {
				t.Parallel()
				c := newCtr(t, withSh("pwd"), func(s *specs.Spec) { s.Process.Cwd = fmt.Sprintf("/proc/self/fd/%d", fd) })
				r := c.run()
				if r.code == 0 {
					t.Errorf("process started with cwd /proc/self/fd/%d: %s", fd, r)
				}
				t.Log(strings.TrimSpace(r.err))
			})
		}
	})
	// A host directory inherited as fd 7, as a careless caller would pass.
	const hostSh = "/proc/self/fd/7/sh"
	t.Run("args through an inherited fd", func(t *testing.T) {
		t.Parallel()
		c := newCtr(t, func(s *specs.Spec) { s.Process.Args = []string{hostSh, "-c", "echo ran-a-host-binary"} })
		r := c.start(asFd7(t, leakedDir(t, c)), c.withID("run", nil)...).wait()
		if r.code == 0 || strings.Contains(r.out, "ran-a-host-binary") {
			t.Errorf("the container ran the host's %s through the inherited fd 7: %s", hostSh, r)
		}
	})
	t.Run("exec args through an inherited fd", func(t *testing.T) {
		t.Parallel()
		c, _ := runningCtr(t)
		r := c.start(asFd7(t, leakedDir(t, c)), "exec", c.id, hostSh, "-c", "echo ran-a-host-binary").wait()
		if r.code == 0 || strings.Contains(r.out, "ran-a-host-binary") {
			t.Errorf("exec ran the host's %s through the inherited fd 7: %s", hostSh, r)
		}
	})
	t.Run("exec cwd through an inherited fd", func(t *testing.T) {
		t.Parallel()
		c, _ := runningCtr(t)
		r := c.start(asFd7(t, leakedDir(t, c)), "exec", "--cwd", "/proc/self/fd/7", c.id, "pwd").wait()
		if r.code == 0 || !strings.Contains(r.err, "chdir /proc/self/fd/7") {
			t.Errorf("exec --cwd through the inherited fd 7: want a refusal of the chdir: %s", r)
		}
	})
	t.Run("runc 1.1.5+deb12u1 (fixed)", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name string
			edit func(*specs.Spec)
		}{
			{"cwd", func(s *specs.Spec) { s.Process.Cwd = "/proc/self/fd/7"; s.Process.Args = []string{"pwd"} }},
			{"args", func(s *specs.Spec) { s.Process.Args = []string{hostSh, "-c", "echo ran-a-host-binary"} }},
		} {
			r := newRunc(t, tc.edit)
			res := r.cmd(asFd7(t, leakedDir(t, r.ctr)), "run", "--bundle", r.bundle, r.id)
			if res.code == 0 || strings.Contains(res.out, "ran-a-host-binary") {
				t.Errorf("%s: runc 1.1.5+deb12u1 did not refuse: %s", tc.name, res)
			}
		}
	})
}

// leakedDir opens a host directory holding a copy of busybox named sh, to
// pass to hako as an inherited fd, as a careless caller (or, in runc's
// case, runc itself) would.
func leakedDir(t *testing.T, c *ctr) *os.File {
	t.Helper()
	dir := filepath.Join(c.dir, "host")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/bin/busybox")
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "sh"), b, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// asFd7 puts f at fd 7 of the child (fds 3..6 /dev/null).
func asFd7(t *testing.T, f *os.File) []*os.File {
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { null.Close() })
	return []*os.File{null, null, null, null, f}
}

// TestCVE_2022_29162: `runc exec --cap` (before 1.1.2) also added the
// capability to the inheritable set, so an unprivileged user in the
// container could gain it by running a binary with file-inheritable caps.
// hako's --cap never touches inheritable: the binary gains nothing. The
// control gives inheritable through --process and shows the binary would.
func TestCVE_2022_29162(t *testing.T) {
	t.Parallel()
	c, _ := runningCtr(t, func(s *specs.Spec) { s.Process.NoNewPrivileges = false })
	sh := fileCapSh(t, c)
	// Builtins only, so the capabilities shown are the file-cap shell's own.
	script := `while read k v; do case $k in CapInh:|CapPrm:|CapEff:) echo $k $v;; esac; done < /proc/self/status`
	const netAdmin = 1 << 12
	caps := func(out string) (inh, prm uint64) {
		f := statusFields(out)
		fmt.Sscanf(f["CapInh"], "%x", &inh)
		fmt.Sscanf(f["CapPrm"], "%x", &prm)
		return
	}
	r := c.ok("exec", "--cap", "CAP_NET_ADMIN", "--user", "1000:1000", c.id, sh, "-c", script)
	if inh, prm := caps(r.out); inh != 0 || prm&netAdmin != 0 {
		t.Errorf("exec --cap CAP_NET_ADMIN as uid 1000: the file-cap binary got CapInh %x CapPrm %x:\n%s", inh, prm, r)
	}
	na := []string{"CAP_NET_ADMIN"}
	p := specs.Process{Args: []string{sh, "-c", script}, Cwd: "/", User: specs.User{UID: 1000, GID: 1000},
		Env: c.spec.Process.Env, Capabilities: &specs.LinuxCapabilities{Bounding: na, Inheritable: na}}
	b, _ := json.Marshal(p)
	pf := filepath.Join(c.dir, "process.json")
	if err := os.WriteFile(pf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r = c.ok("exec", "--process", pf, c.id)
	if _, prm := caps(r.out); prm&netAdmin == 0 {
		t.Errorf("control: with CAP_NET_ADMIN inheritable the file-cap binary should gain it; the reproducer cannot tell:\n%s", r)
	}
}

// fileCapSh puts a copy of busybox at /fcap/sh in the rootfs whose file
// capabilities are inheritable CAP_NET_ADMIN with the effective bit: run
// by a process holding CAP_NET_ADMIN in its inheritable set, it gains it.
func fileCapSh(t *testing.T, c *ctr) string {
	t.Helper()
	dir := filepath.Join(c.bundle, "rootfs", "fcap")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sh := filepath.Join(dir, "sh")
	b, err := os.ReadFile("/bin/busybox") // a copy: the template's is hard-linked everywhere
	if err == nil {
		err = os.WriteFile(sh, b, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	// struct vfs_cap_data, revision 2: magic|effective, then permitted and
	// inheritable for caps 0-31 and 32-63 (linux/capability.h).
	xattr := make([]byte, 20)
	binary.LittleEndian.PutUint32(xattr[0:], 0x02000000|1)
	binary.LittleEndian.PutUint32(xattr[8:], 1<<12) // CAP_NET_ADMIN inheritable
	if err := unix.Setxattr(sh, "security.capability", xattr, 0); err != nil {
		t.Skipf("file capabilities not supported in %s: %v", dir, err)
	}
	return "/fcap/sh"
}

// TestCVE_2025_31133: the image's /dev/null is a symlink to a procfs file
// (here the container's own kernel.hostname; core_pattern or sysrq-trigger
// in the real attack) and the config mounts no /dev tmpfs. runc up to
// 1.2.7 masked paths by binding "/dev/null" by name, so the masked
// /proc/timer_list became that file. hako binds a /dev/null it opened
// with O_NOFOLLOW and checked to be char 1:3, or refuses.
func TestCVE_2025_31133(t *testing.T) {
	t.Parallel()
	prep := func(t *testing.T, c *ctr) {
		null := filepath.Join(c.bundle, "rootfs", "dev", "null")
		os.Remove(null)
		if err := os.Symlink("/proc/sys/kernel/hostname", null); err != nil {
			t.Fatal(err)
		}
		c.edit(outputScript("head -c 100 /proc/timer_list"), func(s *specs.Spec) {
			s.Hostname = "cve-2025-31133"
			var keep []specs.Mount
			for _, m := range s.Mounts {
				if m.Destination != "/dev" {
					keep = append(keep, m)
				}
			}
			s.Mounts = keep
		})
	}
	t.Run("hako", func(t *testing.T) {
		t.Parallel()
		c := newCtr(t)
		prep(t, c)
		r := c.run()
		if r.code == 0 || !strings.Contains(r.err, "/dev/null is not the null device (char 1:3)") {
			t.Errorf("masking with a symlinked /dev/null: want a refusal naming /dev/null: %s\ncontainer saw /proc/timer_list = %q", r, readOut(t, c))
		}
	})
	t.Run("runc 1.1.5", func(t *testing.T) {
		t.Parallel()
		r := newRunc(t)
		prep(t, r.ctr)
		res := r.cmd(nil, "run", "--bundle", r.bundle, r.id)
		if out := readOut(t, r.ctr); res.code != 0 || out != "cve-2025-31133\n" {
			t.Errorf("runc: want the masked /proc/timer_list to show the hostname file: %s\ncontainer saw %q", res, out)
		}
	})
}

// TestCVE_2025_52565 gives the container an attacker-controlled /dev/pts
// (a shared volume bound over it; the real devpts is at /dev/pts2) whose
// entry "0" flips between a symlink to the real pty and one to
// /proc/sys/kernel/hostname. runc up to 1.2.7 looked up the pty by its name
// (/dev/pts/$N) and bound that path onto /dev/console: the container's
// console becomes a writable procfs file (core_pattern in the real attack;
// here the container's own UTS hostname). hako takes the pty from the
// multiplexer fd with TIOCGPTPEER and binds that fd; names are never used.
func TestCVE_2025_52565(t *testing.T) {
	// Not parallel with the other tests: see raceMu.
	prep := func(t *testing.T, c *ctr) *swaps {
		pts := filepath.Join(c.dir, "pts")
		if err := os.Mkdir(pts, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, target := range map[string]string{"ptmx": "../pts2/ptmx", "0": "/proc/sys/kernel/hostname", "0.alt": "../pts2/0"} {
			if err := os.Symlink(target, filepath.Join(pts, name)); err != nil {
				t.Fatal(err)
			}
		}
		c.edit(func(s *specs.Spec) {
			s.Process.Terminal = true
			s.Hostname = "cve-2025-52565"
			for i, m := range s.Mounts {
				if m.Destination == "/dev/pts" {
					s.Mounts[i].Destination = "/dev/pts2"
				}
			}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/dev/pts", Type: "bind", Source: pts, Options: []string{"bind"}})
		})
		return swapper(t, filepath.Join(pts, "0"), filepath.Join(pts, "0.alt"))
	}
	// create makes the container with a console socket and returns what
	// is mounted on its /dev/console.
	console := func(t *testing.T, c *ctr, i int, create func(sock string) result, pid func() int) (string, result) {
		sock := filepath.Join(c.dir, fmt.Sprintf("console%d.sock", i))
		masters := consoleSocket(t, sock)
		r := create(sock)
		if r.code != 0 {
			return "", r
		}
		select { // keep the master open: closing it hangs up the terminal
		case m := <-masters:
			if m.f != nil {
				defer m.f.Close()
			}
		case <-time.After(5 * time.Second):
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid()))
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 8 && f[4] == "/dev/console" {
				return l, r
			}
		}
		return "(nothing)", r
	}
	t.Run("hako", func(t *testing.T) {
		t.Parallel()
		c := newCtr(t, withSh("true"))
		sw := prep(t, c)
		for i := 0; i < 3; i++ {
			var mnt string
			var r result
			sw.during(func() {
				mnt, r = console(t, c, i, func(sock string) result { return c.hako(c.withID("create", []string{"--console-socket", sock})...) },
					func() int { st, _ := c.state(); return st.Pid })
			})
			if r.code != 0 {
				t.Fatalf("create: %s", r)
			}
			if !strings.Contains(mnt, " - devpts ") {
				t.Errorf("hako's /dev/console is not the container's pty: %s", mnt)
			}
			c.ok("delete", "--force", c.id)
		}
		t.Logf("%d swaps, %d of 3 creates raced", sw.Stop(), sw.raced)
		sw.requireRaced(t)
	})
	// exec opens the container's /dev/pts/ptmx (no TIOCGPTPEER source
	// without it) with O_NOFOLLOW and checks it is char 5:2.
	t.Run("hako exec", func(t *testing.T) {
		t.Parallel()
		pts := filepath.Join(t.TempDir(), "pts")
		if err := os.MkdirAll(pts, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pts, "ptmx"), nil, 0o666); err != nil {
			t.Fatal(err)
		}
		c, _ := runningCtr(t, withMount(specs.Mount{Destination: "/dev/pts", Type: "bind", Source: pts, Options: []string{"bind"}}))
		sock := filepath.Join(c.dir, "exec-console.sock")
		consoleSocket(t, sock)
		r := c.hako("exec", "--tty", "--console-socket", sock, c.id, "sh", "-c", "echo ran")
		if r.code == 0 || !strings.Contains(r.err, "/dev/pts/ptmx in the container is not a pty multiplexer (char 5:2)") {
			t.Errorf("exec --tty with a regular file as /dev/pts/ptmx: %s", r)
		}
	})
	t.Run("runc 1.1.5", func(t *testing.T) {
		t.Parallel()
		r := newRunc(t, withSh("true"))
		sw := prep(t, r.ctr)
		hit, runs := false, 0
		outcomes := map[string]int{}
		for deadline := time.Now().Add(raceTime); runs < raceTries && !hit && time.Now().Before(deadline); runs++ {
			var mnt string
			var res result
			sw.during(func() {
				mnt, res = console(t, r.ctr, runs, func(sock string) result {
					return r.cmd(nil, "create", "--console-socket", sock, "--bundle", r.bundle, r.id)
				}, func() int { return statePid(t, r.cmd(nil, "state", r.id).out) })
			})
			if res.code == 0 {
				hit = strings.Contains(mnt, " /sys/kernel/hostname /dev/console ")
				f := strings.Fields(mnt)
				outcomes[strings.Join(f[3:5], " ")+" "+f[len(f)-3]]++
			} else {
				msg := strings.TrimSpace(res.err)
				outcomes[msg[max(0, len(msg)-60):]]++
			}
			r.cmd(nil, "delete", "--force", r.id)
		}
		t.Logf("%d swaps; outcomes: %v", sw.Stop(), outcomes)
		if !hit {
			sw.requireRaced(t)
			runcWon(t, runs, "bound /proc/sys/kernel/hostname on /dev/console")
		}
	})
}

// TestCVE_2025_52881: the container's /proc/sys/kernel/domainname and
// /proc/self/oom_score_adj are files of a volume, so a runtime writing its
// sysctls and oom_score_adj through the container's /proc after mounting
// writes them into those files instead (/proc/sys/kernel/core_pattern or
// /proc/sysrq-trigger in the real attack). hako writes them through the
// host's /proc before it mounts anything. runc 1.1.5 refuses this config's
// mounts inside /proc; there the attack needs racing shared mounts, which
// this test does not build.
func TestCVE_2025_52881(t *testing.T) {
	t.Parallel()
	// The first line is what the container's /proc shows (the files: the
	// redirect is in place); the rest is the truth, from a second procfs.
	c := newCtr(t, withSh(`echo "[$(cat /proc/sys/kernel/domainname /proc/1/oom_score_adj /proc/1/timens_offsets)]"; `+
		`cat /proc2/sys/kernel/domainname /proc2/self/oom_score_adj /proc2/self/timens_offsets`))
	files := map[string]string{}
	for _, dest := range []string{"/proc/sys/kernel/domainname", "/proc/self/oom_score_adj", "/proc/self/timens_offsets"} {
		f := filepath.Join(c.dir, filepath.Base(dest))
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		files[dest] = f
		c.edit(withMount(specs.Mount{Destination: dest, Type: "bind", Source: f, Options: []string{"bind", "rw"}}))
	}
	adj := 123
	c.edit(withMount(specs.Mount{Destination: "/proc2", Type: "proc", Source: "proc"}), withNamespace(specs.TimeNamespace), func(s *specs.Spec) {
		s.Linux.Sysctl = map[string]string{"kernel.domainname": "cve-2025-52881"}
		s.Process.OOMScoreAdj = &adj
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 52881}}
	})
	os.Mkdir(filepath.Join(c.bundle, "rootfs", "proc2"), 0o755)
	r := c.run()
	if r.code != 0 {
		if !strings.Contains(r.err, "/proc") {
			t.Errorf("refusal does not name /proc: %s", r)
		}
		return
	}
	if want := "[] cve-2025-52881 123 monotonic 52881 0 boottime 0 0"; strings.Join(strings.Fields(r.out), " ") != want {
		t.Errorf("the real domainname, oom_score_adj and time offsets (through a second procfs) are not as configured, want %q:\n%s", want, r)
	}
	for dest, f := range files {
		if b, _ := os.ReadFile(f); len(b) > 0 {
			t.Errorf("hako's write to %s went into the file mounted over it: %q", dest, b)
		}
	}
}

// TestCVE_2023_25809: a rootless container without a cgroup namespace
// asks for a writable /sys/fs/cgroup. runc before 1.1.5 bind-mounted the
// host's cgroupfs read-write there, so the container could write to the
// user's own cgroups (systemd's delegated user@UID.service). hako mounts it
// read-only for a rootless container whatever the config says (each
// cgroup mount; on a v1 host the tmpfs that holds them stays writable, as
// runc leaves it: it is the container's own). The rw bind
// of a user-owned directory shows the probe sees rw where it exists.
func TestCVE_2023_25809(t *testing.T) {
	t.Parallel()
	u := newRLUser(t)
	rw := filepath.Join(u.home, "rw")
	rlMkdirOwned(t, rw, u.uid, u.gid)
	c := u.ctr(t, withoutNamespace(specs.CgroupNamespace), func(s *specs.Spec) {
		for i, m := range s.Mounts {
			if m.Type == "cgroup" {
				s.Mounts[i].Options = append(rlWithout(m.Options, "ro"), "rw")
			}
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/rwcheck", Type: "bind", Source: rw, Options: []string{"bind", "rw"}})
	})
	r := c.runSh("cat /proc/self/mountinfo")
	mi := reachableMounts(r.out)
	if m := mi["/rwcheck"]; !m.opts["rw"] {
		t.Fatalf("control: the rw bind is %+v; the probe cannot see rw:\n%s", m, r.out)
	}
	n := 0
	for p, m := range mi {
		if p == "/sys/fs/cgroup" || strings.HasPrefix(p, "/sys/fs/cgroup/") {
			if m.fstype == "tmpfs" {
				continue
			}
			n++
			if !m.opts["ro"] {
				t.Errorf("rootless container has %s (%s) writable: %v", p, m.fstype, keys(m.opts))
			}
		}
	}
	if n == 0 {
		t.Errorf("no cgroup mount in the container:\n%s", r.out)
	}
}

// reachableMounts is parseMountinfo without the mounts a later one covers
// (mounted on the same point or on a directory above it): the rbind of
// the host's /sys that a rootless container without a network namespace
// gets brings the host's cgroup mounts along, under the cgroup tmpfs.
func reachableMounts(text string) map[string]mountEntry {
	m := map[string]mountEntry{}
	for _, l := range strings.Split(text, "\n") {
		e := parseMountinfo(l)
		for p, v := range e {
			for q := range m {
				if q == p || strings.HasPrefix(q, strings.TrimSuffix(p, "/")+"/") {
					delete(m, q)
				}
			}
			m[p] = v
		}
	}
	return m
}
