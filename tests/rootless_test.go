package tests

// Rootless end-to-end tests: hako run by a fresh unprivileged user that the
// test creates (useradd, with a subordinate ID range) and removes again.
// Every hako command here runs as that user through setpriv, with its own
// XDG_RUNTIME_DIR and a bundle it owns, made by `hako spec --rootless`.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/cgroups"
	"hako/internal/userns"
	"hako/tests/internal/users"
)

// rlUser is the unprivileged user the rootless tests run hako as.
type rlUser struct {
	name       string
	uid, gid   int
	home       string
	xdg        string       // its XDG_RUNTIME_DIR (0700, its own)
	subu, subg userns.Range // its /etc/subuid and /etc/subgid ranges
	rootfs     string       // its own copy of the busybox rootfs
	spec       []byte       // config.json from `hako spec --rootless`, run as the user
	specNote   string       // what that command printed on stderr
}

// root is hako's default state root for the user.
func (u *rlUser) root() string { return filepath.Join(u.xdg, "hako") }

// newRLUser creates the user (useradd gives it the next free subordinate
// range), its runtime dir, rootfs and rootless config, and registers the
// cleanup that checks nothing of it is left running and removes it all,
// /etc/subuid and /etc/subgid included.
func newRLUser(t *testing.T) *rlUser {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	for _, tool := range []string{"useradd", "userdel", "setpriv", "unshare", "newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("rootless tests need %s: %v", tool, err)
		}
	}
	snap := rlSnapshot(t, "/etc/subuid", "/etc/subgid")
	u := &rlUser{name: "hakot" + rlRandom()}
	rlRun(t, "useradd", "--create-home", u.name)
	t.Cleanup(func() { rlRemoveUser(t, u.name, true, snap) })
	u.lookup(t)
	t.Cleanup(func() { u.checkNothingLeft(t) })

	u.xdg = filepath.Join(u.home, "run")
	u.rootfs = filepath.Join(u.home, "rootfs")
	specDir := filepath.Join(u.home, "spec")
	for _, d := range []string{u.xdg, specDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, u.uid, u.gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := rlOwnedCopy(filepath.Join(templateDir, "rootfs"), u.rootfs, u.uid, u.gid); err != nil {
		t.Fatal(err)
	}
	r := u.run(t, nil, *hakoBin, "spec", "--rootless", "--bundle", specDir)
	if r.code != 0 {
		t.Fatalf("hako spec --rootless as %s: %s", u.name, r)
	}
	u.specNote = r.err
	var err error
	if u.spec, err = os.ReadFile(filepath.Join(specDir, "config.json")); err != nil {
		t.Fatal(err)
	}
	return u
}

// lookup fills in the user's IDs, home and subordinate ranges.
func (u *rlUser) lookup(t *testing.T) {
	t.Helper()
	pw, err := user.Lookup(u.name)
	if err != nil {
		t.Fatal(err)
	}
	u.uid, _ = strconv.Atoi(pw.Uid)
	u.gid, _ = strconv.Atoi(pw.Gid)
	u.home = pw.HomeDir
	for file, r := range map[string]*userns.Range{"/etc/subuid": &u.subu, "/etc/subgid": &u.subg} {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		ranges, err := userns.ParseSubIDs(f, u.name, pw.Uid)
		f.Close()
		if err != nil || len(ranges) != 1 {
			t.Fatalf("useradd gave %s ranges %v in %s (%v), want one (SUB_UID_COUNT in /etc/login.defs)", u.name, ranges, file, err)
		}
		*r = ranges[0]
	}
}

// checkNothingLeft runs once every rootless test is done: no process of
// the user is alive and its state root is empty.
func (u *rlUser) checkNothingLeft(t *testing.T) {
	for _, pid := range rlProcsOf(u.uid) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		t.Errorf("leftover: process %d %q of %s", pid, b, u.name)
		syscall.Kill(pid, syscall.SIGKILL) // ours: started as this user by these tests
	}
	if ents, err := os.ReadDir(u.root()); err == nil && len(ents) > 0 {
		t.Errorf("leftover: %d entries in the state root %s (first %s)", len(ents), u.root(), ents[0].Name())
	}
}

// rlProcsOf lists live processes whose real uid is uid.
func rlProcsOf(uid int) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(d + "/status")
		if _, live := procStat(d); err != nil || !live {
			continue
		}
		if f := strings.Fields(statusFields(string(b))["Uid"]); len(f) > 0 && f[0] == strconv.Itoa(uid) {
			pid, _ := strconv.Atoi(filepath.Base(d))
			pids = append(pids, pid)
		}
	}
	return pids
}

// rlRemoveUser deletes a user made by these tests (with its home when
// withHome) and checks that /etc/subuid and /etc/subgid are back to what
// they were. userdel drops the user's own lines itself; anything else that
// differs was changed by someone else meanwhile and is left alone.
func rlRemoveUser(t *testing.T, name string, withHome bool, snap map[string][]byte) {
	if err := users.Delete(name, withHome); err != nil {
		t.Error(err)
	}
	for file, before := range snap {
		now, err := os.ReadFile(file)
		if err != nil || bytes.Equal(now, before) {
			continue
		}
		var keep []string
		for _, l := range strings.SplitAfter(string(now), "\n") {
			if !strings.HasPrefix(l, name+":") {
				keep = append(keep, l)
			}
		}
		if rest := strings.Join(keep, ""); rest == string(before) {
			if err := os.WriteFile(file, before, 0o644); err != nil {
				t.Errorf("restore %s: %v", file, err)
			}
		} else if rest != string(now) {
			t.Errorf("%s: userdel left %s's lines and the file changed meanwhile; remove them by hand", file, name)
		} else {
			t.Logf("%s changed during the test, not by it: left as it is", file)
		}
	}
}

func rlSnapshot(t *testing.T, files ...string) map[string][]byte {
	t.Helper()
	snap := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		snap[f] = b
	}
	return snap
}

func rlRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

func rlRandom() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// rlOwnedCopy copies the rootfs template to dst for uid:gid. copyTree
// hard-links files; those become copies here, so the chown leaves the
// template (shared with every other test) alone.
func rlOwnedCopy(src, dst string, uid, gid int) error {
	if err := copyTree(src, dst); err != nil {
		return err
	}
	return filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			b, err := os.ReadFile(p)
			if err == nil {
				err = os.Remove(p)
			}
			if err == nil {
				err = os.WriteFile(p, b, info.Mode().Perm())
			}
			if err == nil {
				err = os.Chmod(p, info.Mode().Perm())
			}
			if err != nil {
				return err
			}
		}
		return os.Lchown(p, uid, gid)
	})
}

func rlChownTree(root string, uid, gid int) error {
	return filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// rlEnv is the user's environment with overrides: "K=V" sets K, a bare "K"
// removes it.
func (u *rlUser) rlEnv(over []string) []string {
	vars := map[string]string{"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": u.home, "USER": u.name,
		"LOGNAME": u.name, "XDG_RUNTIME_DIR": u.xdg}
	for _, o := range over {
		k, v, set := strings.Cut(o, "=")
		if set {
			vars[k] = v
		} else {
			delete(vars, k)
		}
	}
	var env []string
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// start runs prog as the user (setpriv), in its home, with env overrides
// (see rlEnv).
func (u *rlUser) start(t *testing.T, over []string, prog string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, "setpriv", append([]string{"--reuid=" + strconv.Itoa(u.uid),
		"--regid=" + strconv.Itoa(u.gid), "--init-groups", "--", prog}, args...)...)
	cmd.Env, cmd.Dir = u.rlEnv(over), u.home
	e := &env{t: t, dir: t.TempDir()}
	p := &proc{cmd: cmd, cancel: cancel, stdout: e.tempFile("stdout"), err: e.tempFile("stderr")}
	cmd.Stdout, cmd.Stderr = p.stdout, p.err
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("setpriv %s: %v", prog, err)
	}
	return p
}

func (u *rlUser) run(t *testing.T, over []string, prog string, args ...string) result {
	t.Helper()
	return u.start(t, over, prog, args...).wait()
}

// rlCtr is one rootless container: a bundle the user owns (its rootfs copy
// and the config from `hako spec --rootless`, terminal off, then edits).
type rlCtr struct {
	t          *testing.T
	u          *rlUser
	id, bundle string
	spec       *specs.Spec
	pids       []int
}

func (u *rlUser) ctr(t *testing.T, edits ...func(*specs.Spec)) *rlCtr {
	t.Helper()
	c := &rlCtr{t: t, u: u, id: newID(t), spec: &specs.Spec{}}
	c.bundle = filepath.Join(u.home, c.id)
	if err := copyTree(u.rootfs, filepath.Join(c.bundle, "rootfs")); err != nil {
		t.Fatal(err)
	}
	if err := rlChownTree(c.bundle, u.uid, u.gid); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(u.spec, c.spec); err != nil {
		t.Fatal(err)
	}
	c.spec.Process.Terminal = false
	c.edit(edits...)
	t.Cleanup(c.cleanup)
	return c
}

func (c *rlCtr) edit(edits ...func(*specs.Spec)) {
	c.t.Helper()
	p := editConfig(c.t, c.bundle, c.spec, edits)
	if err := os.Chown(p, c.u.uid, c.u.gid); err != nil {
		c.t.Fatal(err)
	}
}

// hako runs hako as the user, with its default state root.
func (c *rlCtr) hako(args ...string) result {
	c.t.Helper()
	return c.u.run(c.t, nil, *hakoBin, args...)
}

func (c *rlCtr) ok(args ...string) result {
	c.t.Helper()
	r := c.hako(args...)
	if r.code != 0 {
		c.t.Fatalf("hako %s (as %s): %s", strings.Join(args, " "), c.u.name, r)
	}
	return r
}

// runSh is foreground `hako run` of `sh -c script`, exit 0 required.
func (c *rlCtr) runSh(script string) result {
	c.t.Helper()
	c.edit(withSh(script))
	return c.ok("run", "--bundle", c.bundle, c.id)
}

func (c *rlCtr) state() specs.State {
	c.t.Helper()
	var st specs.State
	r := c.ok("state", c.id)
	if err := json.Unmarshal([]byte(r.out), &st); err != nil {
		c.t.Fatalf("state output is not JSON: %v: %s", err, r.out)
	}
	if st.Pid > 0 {
		c.pids = append(c.pids, st.Pid)
	}
	return st
}

func (c *rlCtr) waitStatus(want specs.ContainerState) specs.State {
	c.t.Helper()
	var st specs.State
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if st = c.state(); st.Status == want {
			return st
		}
	}
	c.t.Fatalf("container %s never became %s: %+v", c.id, want, st)
	return st
}

func (c *rlCtr) cleanup() {
	if r := c.hako("delete", "--force", c.id); r.code != 0 {
		c.t.Errorf("cleanup: delete --force %s as %s: %s", c.id, c.u.name, r)
	}
	checkGone(c.t, c.u.root(), c.id, c.bundle, c.pids)
}

// Spec edits for rootless configs.

// rlSingleID keeps only the mapping of container 0 to the user and drops
// devpts gid=5, which would then be unmapped.
func rlSingleID(s *specs.Spec) {
	s.Linux.UIDMappings = s.Linux.UIDMappings[:1]
	s.Linux.GIDMappings = s.Linux.GIDMappings[:1]
	for i, m := range s.Mounts {
		if m.Type == "devpts" {
			s.Mounts[i].Options = rlWithout(m.Options, "gid=5")
		}
	}
}

func rlWithout(l []string, drop string) []string {
	var out []string
	for _, x := range l {
		if x != drop {
			out = append(out, x)
		}
	}
	return out
}

func rlCap(name string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		c := s.Process.Capabilities
		c.Bounding, c.Effective, c.Permitted = append(c.Bounding, name), append(c.Effective, name), append(c.Permitted, name)
	}
}

func rlWritable(s *specs.Spec) { s.Root.Readonly = false }

// rlRootID is what `id` prints for root when /etc/passwd and /etc/group
// name it, as the busybox rootfs does.
const rlRootID = "uid=0(root) gid=0(root)"

func rlCheckRoot(t *testing.T, out string) {
	t.Helper()
	id := regexp.MustCompile(`uid=.*`).FindString(out)
	if !strings.HasPrefix(id, rlRootID) || regexp.MustCompile(`nobody|nogroup|65534`).MatchString(id) {
		t.Errorf("id inside is %q, want %s...:\n%s", id, rlRootID, out)
	}
}

// rlOwner is a host file's uid and gid.
func rlOwner(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Uid, st.Gid
}

// TestRootless runs containers as a fresh unprivileged user.
func TestRootless(t *testing.T) {
	t.Parallel()
	u := newRLUser(t)
	t.Run("spec", func(t *testing.T) { t.Parallel(); rlTestSpec(t, u) })
	t.Run("running", func(t *testing.T) { t.Parallel(); rlTestRunning(t, u) })
	t.Run("files and chown with a subuid range", func(t *testing.T) { t.Parallel(); rlTestFiles(t, u) })
	t.Run("single ID", func(t *testing.T) { t.Parallel(); rlTestSingleID(t, u) })
	t.Run("pty", func(t *testing.T) { t.Parallel(); rlTestPty(t, u) })
	t.Run("limits without a cgroup", func(t *testing.T) { t.Parallel(); rlTestLimits(t, u) })
	t.Run("state root", func(t *testing.T) { t.Parallel(); rlTestStateRoot(t, u) })
	rlTestErrors(t, u)
}

// rlTestSpec: `hako spec --rootless` maps 0 to the user and 1.. to its
// subordinate range; without a range or without newuidmap it falls back to
// the single mapping and says so.
func rlTestSpec(t *testing.T, u *rlUser) {
	var s specs.Spec
	if err := json.Unmarshal(u.spec, &s); err != nil {
		t.Fatal(err)
	}
	want := func(id int, r userns.Range) []specs.LinuxIDMapping {
		return []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(id), Size: 1}, {ContainerID: 1, HostID: r.Start, Size: r.Count}}
	}
	if fmt.Sprint(s.Linux.UIDMappings) != fmt.Sprint(want(u.uid, u.subu)) || fmt.Sprint(s.Linux.GIDMappings) != fmt.Sprint(want(u.gid, u.subg)) {
		t.Errorf("spec --rootless maps uids %v gids %v, want %v and %v", s.Linux.UIDMappings, s.Linux.GIDMappings, want(u.uid, u.subu), want(u.gid, u.subg))
	}
	if u.specNote != "" {
		t.Errorf("spec --rootless with a range printed %q", u.specNote)
	}
	if !rlHasDevptsGid5(&s) {
		t.Errorf("multi-range spec dropped devpts gid=5 (gid 5 is mapped)")
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			t.Errorf("spec --rootless keeps a network namespace")
		}
	}
	if s.Linux.Resources != nil {
		t.Errorf("spec --rootless keeps resources %+v", s.Linux.Resources)
	}

	// No newuidmap on PATH: single mapping, with a note.
	dir := filepath.Join(u.home, "spec-"+rlRandom())
	rlMkdirOwned(t, dir, u.uid, u.gid)
	r := u.run(t, []string{"PATH=/nonexistent"}, *hakoBin, "spec", "--rootless", "--bundle", dir)
	rlCheckSingleSpec(t, "without newuidmap", r, dir, u.uid, u.gid)

	// A user without subordinate ranges: single mapping, with a note.
	other := u.name + "n"
	snap := rlSnapshot(t, "/etc/subuid", "/etc/subgid")
	rlRun(t, "useradd", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", other)
	defer rlRemoveUser(t, other, false, snap)
	pw, err := user.Lookup(other)
	if err != nil {
		t.Fatal(err)
	}
	ou, _ := strconv.Atoi(pw.Uid)
	og, _ := strconv.Atoi(pw.Gid)
	dir = filepath.Join(u.home, "spec-"+other)
	rlMkdirOwned(t, dir, ou, og)
	defer os.RemoveAll(dir)
	r = (&rlUser{name: other, uid: ou, gid: og, home: dir, xdg: dir}).run(t, nil, *hakoBin, "spec", "--rootless", "--bundle", dir)
	rlCheckSingleSpec(t, "for a user without /etc/subuid range", r, dir, ou, og)
}

func rlMkdirOwned(t *testing.T, dir string, uid, gid int) {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
}

func rlHasDevptsGid5(s *specs.Spec) bool {
	for _, m := range s.Mounts {
		if m.Type == "devpts" {
			return len(rlWithout(m.Options, "gid=5")) < len(m.Options)
		}
	}
	return false
}

func rlCheckSingleSpec(t *testing.T, what string, r result, dir string, uid, gid int) {
	t.Helper()
	if r.code != 0 || !strings.Contains(r.err, "single-ID mapping") {
		t.Errorf("spec --rootless %s: want success with a note on the single-ID mapping: %s", what, r)
	}
	var s specs.Spec
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil {
		t.Fatal(err)
	}
	wantU := []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(uid), Size: 1}}
	wantG := []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(gid), Size: 1}}
	if fmt.Sprint(s.Linux.UIDMappings) != fmt.Sprint(wantU) || fmt.Sprint(s.Linux.GIDMappings) != fmt.Sprint(wantG) || rlHasDevptsGid5(&s) {
		t.Errorf("spec --rootless %s: uids %v gids %v devpts gid=5 %v, want %v %v and no gid=5",
			what, s.Linux.UIDMappings, s.Linux.GIDMappings, rlHasDevptsGid5(&s), wantU, wantG)
	}
}

// rlTestRunning: a detached container runs as the user on the host, with
// its state in $XDG_RUNTIME_DIR/hako; exec joins its user namespace and is
// root there.
func rlTestRunning(t *testing.T, u *rlUser) {
	c := u.ctr(t, withSh(`trap "exit 143" TERM; sleep 30 & wait`))
	c.ok("run", "-d", "--bundle", c.bundle, c.id)
	st := c.waitStatus(specs.StateRunning)
	if _, err := os.Stat(filepath.Join(u.root(), c.id)); err != nil {
		t.Errorf("state is not under $XDG_RUNTIME_DIR/hako: %v", err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", st.Pid))
	if err != nil {
		t.Fatal(err)
	}
	f := statusFields(string(status))
	for k, id := range map[string]int{"Uid": u.uid, "Gid": u.gid} {
		if want := strings.Repeat(strconv.Itoa(id)+" ", 4); strings.Join(strings.Fields(f[k]), " ")+" " != want {
			t.Errorf("host sees container init %d with %s %q, want %s's %d", st.Pid, k, f[k], u.name, id)
		}
	}
	userNS, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", st.Pid))
	hostNS, _ := os.Readlink("/proc/self/ns/user")
	if userNS == hostNS {
		t.Errorf("container init is in the host's user namespace %s", hostNS)
	}
	r := c.ok("exec", c.id, "sh", "-c", "id; readlink /proc/self/ns/user; cat /proc/self/uid_map")
	rlCheckRoot(t, r.out)
	if !strings.Contains(r.out, userNS) {
		t.Errorf("exec is not in init's user namespace %s:\n%s", userNS, r.out)
	}
	c.ok("kill", c.id, "KILL")
	c.waitStatus(specs.StateStopped)
}

// rlTestFiles: a file created inside belongs to the user on the host;
// chown to 1000:1000 (CAP_CHOWN, mapped through the subordinate range)
// lands on subuid start + 999. Devices and /sys are bind mounts.
func rlTestFiles(t *testing.T, u *rlUser) {
	c := u.ctr(t, rlWritable, rlCap("CAP_CHOWN"))
	r := c.runSh(`id; touch /tmp/mine /tmp/theirs && chown 1000:1000 /tmp/theirs && echo chowned; ` +
		`echo x > /dev/null && echo null-ok; cat /proc/self/mountinfo`)
	rlCheckRoot(t, r.out)
	if !strings.Contains(r.out, "chowned") || !strings.Contains(r.out, "null-ok") {
		t.Errorf("chown or /dev/null failed inside:\n%s", r)
	}
	tmp := filepath.Join(c.bundle, "rootfs", "tmp")
	if uid, gid := rlOwner(t, filepath.Join(tmp, "mine")); uid != uint32(u.uid) || gid != uint32(u.gid) {
		t.Errorf("file created inside is %d:%d on the host, want %s's %d:%d", uid, gid, u.name, u.uid, u.gid)
	}
	wantU, wantG := u.subu.Start+999, u.subg.Start+999
	if uid, gid := rlOwner(t, filepath.Join(tmp, "theirs")); uid != wantU || gid != wantG {
		t.Errorf("file chowned to 1000:1000 inside is %d:%d on the host, want %d:%d (subordinate start + 999)", uid, gid, wantU, wantG)
	}
	mi := parseMountinfo(r.out)
	if m, ok := mi["/dev/null"]; !ok || m.fstype == "tmpfs" {
		t.Errorf("/dev/null is not bind-mounted from the host: %+v", m)
	}
	if m := mi["/sys"]; m.fstype != "sysfs" || !m.opts["ro"] {
		t.Errorf("/sys is %+v, want a read-only bind of the host's sysfs", m)
	}
}

// rlTestSingleID: with only the user mapped (no helper involved), id is
// still root and chown to an unmapped ID fails cleanly.
func rlTestSingleID(t *testing.T, u *rlUser) {
	c := u.ctr(t, rlSingleID, rlWritable, rlCap("CAP_CHOWN"))
	c.edit(withSh(`id; cat /proc/self/uid_map; touch /tmp/mine; chown 1000:1000 /tmp/mine; echo chown=$?`))
	r := c.ok("--trace", "run", "--bundle", c.bundle, c.id)
	rlCheckRoot(t, r.out)
	if n := len(strings.Split(strings.TrimSpace(r.out), "\n")); !strings.Contains(r.out, "chown=1") || n != 3 {
		t.Errorf("want id, one uid_map line, chown=1:\n%s", r)
	}
	if !strings.Contains(r.err, "Invalid argument") {
		t.Errorf("chown to an unmapped uid should fail with EINVAL:\n%s", r.err)
	}
	if strings.Contains(r.err, "newuidmap") || !strings.Contains(r.err, "setgroups deny") {
		t.Errorf("single-ID maps should be written by hako itself with setgroups deny:\n%s", r.err)
	}
	if uid, gid := rlOwner(t, filepath.Join(c.bundle, "rootfs", "tmp", "mine")); uid != uint32(u.uid) || gid != uint32(u.gid) {
		t.Errorf("file created inside is %d:%d on the host, want %d:%d", uid, gid, u.uid, u.gid)
	}
}

// rlTestPty: a terminal container created by the user hands its pty master
// over --console-socket.
func rlTestPty(t *testing.T, u *rlUser) {
	c := u.ctr(t, func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.Args = []string{"sh"}
	})
	sock := filepath.Join(c.bundle, "console.sock")
	masters := consoleSocket(t, sock)
	if err := os.Chown(sock, u.uid, u.gid); err != nil {
		t.Fatal(err)
	}
	c.ok("create", "--bundle", c.bundle, "--console-socket", sock, c.id)
	c.state()
	var got fdOrErr
	select {
	case got = <-masters:
	case <-time.After(10 * time.Second):
		got.err = fmt.Errorf("nothing within 10s")
	}
	if got.err != nil {
		t.Fatalf("no pty master on the console socket: %v", got.err)
	}
	defer got.f.Close()
	c.ok("start", c.id)
	if _, err := got.f.Write([]byte("id; tty; exit\n")); err != nil {
		t.Fatal(err)
	}
	got.f.SetReadDeadline(time.Now().Add(10 * time.Second))
	out, _ := io.ReadAll(got.f) // ends with EIO once the shell exits
	rlCheckRoot(t, string(out))
	if !strings.Contains(string(out), "/dev/pts/0") {
		t.Errorf("terminal session printed %q, want /dev/pts/0", out)
	}
	c.waitStatus(specs.StateStopped)
}

// rlTestLimits: a memory limit the user has no cgroup for is an error that
// says why and what to do (runc fails too: "cannot set memory limit:
// container could not join or create cgroup"), and nothing is left.
func rlTestLimits(t *testing.T, u *rlUser) {
	limit := int64(64 << 20)
	c := u.ctr(t, func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
	})
	c.edit(withSh("echo ran"))
	r := c.hako("run", "--bundle", c.bundle, c.id)
	want := []string{"rootless: linux.resources asks for memory", "may create no cgroup", "EACCES"}
	if !cgroups.IsV2Host() {
		want = append(want, "cgroup v1", "drop linux.resources")
	}
	if r.code == 0 || strings.Contains(r.out, "ran") {
		t.Fatalf("run with a memory limit and no cgroup: want an error: %s", r)
	}
	for _, w := range want {
		if !strings.Contains(r.err, w) {
			t.Errorf("error lacks %q:\n%s", w, r.err)
		}
	}
	// Without the limit the same user runs it, without a cgroup.
	c.edit(func(s *specs.Spec) { s.Linux.Resources = nil })
	if r := c.ok("run", "--bundle", c.bundle, c.id); r.out != "ran\n" || r.err != "" {
		t.Errorf("run without limits: want ran and nothing on stderr: %s", r)
	}
}

// rlTestStateRoot: without XDG_RUNTIME_DIR hako says what to set; --root
// works instead.
func rlTestStateRoot(t *testing.T, u *rlUser) {
	r := u.run(t, []string{"XDG_RUNTIME_DIR"}, *hakoBin, "list")
	if r.code == 0 || !strings.Contains(r.err, "XDG_RUNTIME_DIR") || !strings.Contains(r.err, "--root") {
		t.Errorf("list without XDG_RUNTIME_DIR: want an error naming XDG_RUNTIME_DIR and --root: %s", r)
	}
	dir := filepath.Join(u.home, "state-"+rlRandom())
	if r := u.run(t, []string{"XDG_RUNTIME_DIR"}, *hakoBin, "--root", dir, "list"); r.code != 0 {
		t.Errorf("list --root %s without XDG_RUNTIME_DIR: %s", dir, r)
	}
}

// rlTestErrors: what a rootless user gets wrong, or the host forbids, ends
// in an error that says what to do, and leaves nothing behind.
func rlTestErrors(t *testing.T, u *rlUser) {
	nosuid := filepath.Join(u.home, "nosuid")
	private := filepath.Join(u.home, "root-only")
	for _, d := range []string{nosuid, private} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range []string{"newuidmap", "newgidmap"} {
		p, _ := exec.LookPath(h)
		b, err := os.ReadFile(p)
		if err == nil {
			err = os.WriteFile(filepath.Join(nosuid, h), b, 0o755) // root's, no setuid bit
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(private, "secret"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(private, 0o700)
	notOwned := func(s *specs.Spec) {
		s.Linux.UIDMappings[1].HostID = u.subu.Start + u.subu.Count
		s.Linux.GIDMappings[1].HostID = u.subg.Start + u.subg.Count
	}
	for _, tc := range []struct {
		name  string
		edits []func(*specs.Spec)
		env   []string
		nest  bool // run hako where the user may create no further user namespace
		want  []string
	}{
		{"range not the user's", []func(*specs.Spec){notOwned}, nil, false,
			[]string{"newuidmap", "not allowed", fmt.Sprintf("/etc/subuid gives your user only host IDs %d-%d", u.subu.Start, u.subu.Start+u.subu.Count-1)}},
		{"newuidmap not setuid", nil, []string{"PATH=" + nosuid + ":/usr/bin:/bin"}, false,
			[]string{"newuidmap", nosuid + "/newuidmap is neither setuid root nor has file capabilities"}},
		{"newuidmap missing", nil, []string{"PATH=/nonexistent"}, false,
			[]string{"newuidmap not found", "uidmap package", "size 1"}},
		{"user namespaces disabled", []func(*specs.Spec){rlSingleID}, nil, true,
			[]string{"clone", "CLONE_NEWUSER", "ENOSPC", "user.max_user_namespaces"}},
		{"no user namespace", []func(*specs.Spec){withoutNamespace(specs.UserNamespace), func(s *specs.Spec) {
			s.Linux.UIDMappings, s.Linux.GIDMappings = nil, nil
		}}, nil, false, []string{"clone", "EPERM", "CAP_SYS_ADMIN", "hako spec --rootless"}},
		{"proc without a pid namespace", []func(*specs.Spec){withoutNamespace(specs.PIDNamespace)}, nil, false,
			[]string{"mount proc on /proc", "EPERM", "PID namespace"}},
		{"bind of a root-only path", []func(*specs.Spec){withMount(specs.Mount{Destination: "/mnt", Type: "bind",
			Source: filepath.Join(private, "secret"), Options: []string{"rbind"}})}, nil, false,
			[]string{"secret on /mnt", "EACCES", "search permission"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := u.ctr(t, append(tc.edits, withSh("echo ran"))...)
			args := []string{*hakoBin, "run", "--bundle", c.bundle, c.id}
			if tc.nest {
				// Not the host's sysctl: a throwaway user namespace whose
				// limit allows one more, taken by the inner unshare.
				args = append([]string{"--user", "--map-root-user", "sh", "-c",
					`u=$1 g=$2; shift 2; echo 1 > /proc/sys/user/max_user_namespaces && exec unshare --user --map-user=$u --map-group=$g "$@"`,
					"sh", strconv.Itoa(u.uid), strconv.Itoa(u.gid)}, args...)
				args = append([]string{"unshare"}, args...)
			}
			r := u.run(t, tc.env, args[0], args[1:]...)
			if r.code == 0 || strings.Contains(r.out, "ran") {
				t.Fatalf("run succeeded: %s", r)
			}
			t.Log(strings.TrimSpace(r.err))
			for _, w := range tc.want {
				if !strings.Contains(r.err, w) {
					t.Errorf("error lacks %q:\n%s", w, r.err)
				}
			}
		})
	}
}
