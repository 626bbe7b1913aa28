// Package tests drives the built hako binary on real busybox containers, as
// root, and asserts from inside each container what its config.json asked
// for. Run: go test -count=1 ./tests/ -hako.bin=$PWD/bin/hako
package tests

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var hakoBin = flag.String("hako.bin", "", "absolute path of the hako binary under test (the suite skips without it)")

// Built once per package run by TestMain: a busybox rootfs and the default
// config.json from `hako spec`. Each test gets its own hard-linked copy.
var (
	skipReason   string
	templateDir  string
	templateSpec []byte
)

func TestMain(m *testing.M) {
	flag.Parse()
	switch {
	case *hakoBin == "":
		skipReason = "no -hako.bin given: end-to-end tests need the built binary (make build; go test ./tests/ -hako.bin=$PWD/bin/hako)"
	case !filepath.IsAbs(*hakoBin):
		skipReason = fmt.Sprintf("-hako.bin %q must be an absolute path", *hakoBin)
	case os.Geteuid() != 0:
		skipReason = "end-to-end tests create real containers and must run as root"
	}
	if skipReason != "" {
		fmt.Println("tests: skipping all:", skipReason)
		os.Exit(m.Run())
	}
	dir, err := makeTemplate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	removeCgroupParents()
	os.Exit(code)
}

// removeCgroupParents removes the /hako parent cgroups the suite's
// containers were made under, if empty: hako keeps them between containers
// (as Docker keeps /docker), but the tests leave the host as they found it.
// One still in use (another hako on the machine) is busy and stays.
func removeCgroupParents() {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/hako")
	if d := "/sys/fs/cgroup/hako"; fileExists(d) {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		syscall.Rmdir(d)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func makeTemplate() (string, error) {
	dir, err := os.MkdirTemp("", "hako-e2e-template-")
	if err != nil {
		return "", err
	}
	templateDir = filepath.Join(dir, "bundle")
	cmd := exec.Command("../scripts/mkbundle.sh", templateDir)
	cmd.Env = append(os.Environ(), "HAKO="+*hakoBin)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("mkbundle.sh: %v: %s", err, out)
	}
	templateSpec, err = os.ReadFile(filepath.Join(templateDir, "config.json"))
	return dir, err
}

// env is one test's hako state root (--root), in the test's temp dir.
type env struct {
	t    *testing.T
	root string
	dir  string // scratch space for output files
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	d := t.TempDir()
	return &env{t: t, root: filepath.Join(d, "root"), dir: d}
}

// result is what one hako command did.
type result struct {
	out, err string
	code     int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
}

// proc is a running hako command. Its stdout and stderr are files, never
// pipes: a container inherits them, and a pipe would keep Wait from
// returning until the container exits.
type proc struct {
	cmd         *exec.Cmd
	cancel      context.CancelFunc
	stdout, err *os.File
}

// start runs `hako --root R args...`; extra become fds 3, 4, ...
func (e *env) start(extra []*os.File, args ...string) *proc {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, *hakoBin, append([]string{"--root", e.root}, args...)...)
	p := &proc{cmd: cmd, cancel: cancel, stdout: e.tempFile("stdout"), err: e.tempFile("stderr")}
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = p.stdout, p.err, extra
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("start %s: %v", *hakoBin, err)
	}
	return p
}

func (e *env) tempFile(name string) *os.File {
	f, err := os.CreateTemp(e.dir, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

func (p *proc) wait() result {
	defer p.cancel()
	p.cmd.Wait()
	return result{out: readAll(p.stdout), err: readAll(p.err), code: p.cmd.ProcessState.ExitCode()}
}

func readAll(f *os.File) string {
	b, _ := os.ReadFile(f.Name())
	return string(b)
}

func (e *env) hako(args ...string) result {
	e.t.Helper()
	return e.start(nil, args...).wait()
}

// ok runs hako and fails the test unless it exits 0.
func (e *env) ok(args ...string) result {
	e.t.Helper()
	r := e.hako(args...)
	if r.code != 0 {
		e.t.Fatalf("hako %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// ctr is one container: its bundle, and the checks its cleanup makes.
type ctr struct {
	*env
	id, bundle string
	spec       *specs.Spec
	pids       []int // every pid seen, checked gone at cleanup
}

// newCtr makes a container with its own state root; see env.ctr.
func newCtr(t *testing.T, edits ...func(*specs.Spec)) *ctr {
	t.Helper()
	return newEnv(t).ctr(edits...)
}

// ctr makes a fresh bundle (a hard-linked copy of the busybox rootfs and the
// default config with terminal off, then edits) and a unique ID, and
// registers the cleanup that force-deletes it and checks nothing is left.
func (e *env) ctr(edits ...func(*specs.Spec)) *ctr {
	e.t.Helper()
	c := &ctr{env: e, id: newID(e.t), bundle: filepath.Join(e.t.TempDir(), "bundle")}
	if err := copyTree(filepath.Join(templateDir, "rootfs"), filepath.Join(c.bundle, "rootfs")); err != nil {
		e.t.Fatal(err)
	}
	// t.TempDir makes 0700 dirs; a user namespace's root (an unmapped host
	// uid such as 100000) must be able to reach its rootfs.
	for d := filepath.Dir(c.bundle); strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	c.spec = &specs.Spec{}
	if err := json.Unmarshal(templateSpec, c.spec); err != nil {
		e.t.Fatal(err)
	}
	c.spec.Process.Terminal = false
	c.edit(edits...)
	e.t.Cleanup(c.cleanup)
	return c
}

// edit changes the spec and rewrites config.json.
func (c *ctr) edit(edits ...func(*specs.Spec)) {
	c.t.Helper()
	editConfig(c.t, c.bundle, c.spec, edits)
}

// editConfig applies edits to s and writes it as bundle/config.json,
// returning the file's path.
func editConfig(t *testing.T, bundle string, s *specs.Spec, edits []func(*specs.Spec)) string {
	t.Helper()
	for _, f := range edits {
		f(s)
	}
	b, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(bundle, "config.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// run is foreground `hako run --bundle B [flags] ID`.
func (c *ctr) run(flags ...string) result {
	c.t.Helper()
	return c.hako(c.withID("run", flags)...)
}

// withID makes `verb --bundle B flags... ID` (create and run).
func (c *ctr) withID(verb string, flags []string) []string {
	return append(append([]string{verb, "--bundle", c.bundle}, flags...), c.id)
}

// sh runs the container with `sh -c script`, requires exit 0, returns stdout.
func (c *ctr) sh(script string, flags ...string) string {
	c.t.Helper()
	c.edit(withSh(script))
	r := c.run(flags...)
	if r.code != 0 {
		c.t.Fatalf("run %q: %s", script, r)
	}
	return r.out
}

// state returns `hako state ID`, decoded when it exits 0.
func (c *ctr) state() (st specs.State, r result) {
	c.t.Helper()
	r = c.hako("state", c.id)
	if r.code == 0 {
		if err := json.Unmarshal([]byte(r.out), &st); err != nil {
			c.t.Fatalf("state output is not JSON: %v: %s", err, r.out)
		}
		c.seen(st.Pid)
	}
	return st, r
}

func (c *ctr) seen(pid int) {
	if pid > 0 {
		c.pids = append(c.pids, pid)
	}
}

// waitStatus polls `hako state` until the container has status want.
func (c *ctr) waitStatus(want specs.ContainerState) specs.State {
	c.t.Helper()
	var st specs.State
	var r result
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if st, r = c.state(); r.code == 0 && st.Status == want {
			return st
		}
	}
	c.t.Fatalf("container %s never became %s; last state: %s", c.id, want, r)
	return st
}

func (c *ctr) cleanup() {
	if r := c.hako("delete", "--force", c.id); r.code != 0 {
		c.t.Errorf("cleanup: delete --force %s: %s", c.id, r)
	}
	checkGone(c.t, c.root, c.id, c.bundle, c.pids)
}

// checkGone reports anything container id left behind: its state dir, a
// process, a mount, a cgroup.
func checkGone(t *testing.T, root, id, bundle string, pids []int) {
	t.Helper()
	if _, err := os.Lstat(filepath.Join(root, id)); !os.IsNotExist(err) {
		t.Errorf("leftover: state dir %s (%v)", filepath.Join(root, id), err)
	}
	for _, p := range leftoverProcs(id, bundle, pids) {
		t.Errorf("leftover: process %s", p)
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mi), "\n") {
		if strings.Contains(l, bundle) || strings.Contains(l, root+"/") {
			t.Errorf("leftover: mount %s", l)
		}
	}
	for _, pat := range []string{"/sys/fs/cgroup/*/hako/" + id, "/sys/fs/cgroup/*/" + id, "/sys/fs/cgroup/" + id} {
		m, _ := filepath.Glob(pat)
		for _, d := range m {
			t.Errorf("leftover: cgroup %s", d)
		}
	}
}

// leftoverProcs finds live processes (zombies are dead: reaping them is
// the host init's job) that are one of pids, sit in a cgroup named after
// id, or have their cwd or root in the bundle. It allows a moment for
// SIGKILL to land.
func leftoverProcs(id, bundle string, pids []int) []string {
	var left []string
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		left = left[:0]
		for _, p := range pids {
			if s, live := procStat(fmt.Sprintf("/proc/%d", p)); live {
				left = append(left, fmt.Sprintf("%d (container pid seen by the test): %s", p, s))
			}
		}
		dirs, _ := filepath.Glob("/proc/[0-9]*")
		for _, d := range dirs {
			if _, live := procStat(d); !live {
				continue
			}
			cg, _ := os.ReadFile(d + "/cgroup")
			cwd, _ := os.Readlink(d + "/cwd")
			rt, _ := os.Readlink(d + "/root")
			if strings.Contains(string(cg), "/"+id+"\n") || strings.HasPrefix(cwd, bundle) || strings.HasPrefix(rt, bundle) {
				cmd, _ := os.ReadFile(d + "/cmdline")
				left = append(left, fmt.Sprintf("%s %q (cwd %s, root %s)", d, cmd, cwd, rt))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
	}
}

// procStat reads /proc/PID/stat; live is false for a gone or zombie process.
func procStat(dir string) (stat string, live bool) {
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return "", false
	}
	rest := string(b[strings.LastIndex(string(b), ")")+1:]) // comm may hold ")"
	return string(b), !strings.HasPrefix(rest, " Z") && !strings.HasPrefix(rest, " X")
}

var nonID = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// newID is "t-<test name>-<random>", valid as a container ID.
func newID(t *testing.T) string {
	name := strings.Trim(nonID.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	b := make([]byte, 4)
	rand.Read(b)
	return "t-" + name + "-" + hex.EncodeToString(b)
}

// copyTree copies a rootfs: directories and symlinks made anew, regular
// files hard-linked (or copied when linking fails).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.MkdirAll(to, 0o755); err != nil {
				return err
			}
			return os.Chmod(to, info.Mode()&(fs.ModePerm|fs.ModeSticky))
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, to)
		}
		if os.Link(p, to) == nil {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, info.Mode().Perm())
	})
}
