package engines

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/tests/internal/users"
)

// Rootless podman: a fresh user that the test creates (useradd gives it a
// subordinate ID range) and removes again runs podman with a private
// configuration in its home, and podman runs hako (or, to compare, runc)
// from inside its rootless user namespace, where the runtime is uid 0 but
// no more privileged on the host than the user. Podman is driven with the
// cgroupfs manager and no network (slirp4netns needs /dev/net/tun, which
// is root's only on this machine).

// rlPodmanConf is the user's containers.conf: hako as the runtime by path,
// catatonit for --init, the file events backend, no network.
const rlPodmanConf = `[containers]
netns = "none"
init_path = "%[3]s"

[engine]
runtime = "hako"
runtime_supports_json = ["crun", "runc", "hako"]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "%[1]s/events.log"

[engine.runtimes]
hako = ["%[2]s"]
`

// rlStorageConf: rootless podman takes its image store from
// rootless_storage_path (graphroot is root's); the run root is honoured.
const rlStorageConf = `[storage]
driver = "overlay"
graphroot = "%[1]s/storage"
rootless_storage_path = "%[1]s/storage"
runroot = "%[2]s/containers"
`

// rlPodman is rootless podman as the test's user.
type rlPodman struct {
	t         *testing.T
	name      string
	uid, gid  int
	home, xdg string
	env       []string // the user's whole environment
	ids       []string // every container made, for the leftover checks
}

// newRLUser creates the user and its podman configuration, and registers
// the cleanup that removes the containers, podman's pause process and the
// user, and checks that nothing of it is left.
func newRLUser(t *testing.T) *rlPodman {
	t.Helper()
	needRoot(t)
	for _, tool := range []string{"useradd", "userdel", "setpriv", "newuidmap", "newgidmap", "catatonit"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("rootless podman needs %s (scripts/engines/setup.sh installs it): %v", tool, err)
		}
	}
	snap := map[string][]byte{}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		snap[f] = b
	}
	u := &rlPodman{t: t, name: uniq("hakoe2e")}
	if out, err := exec.Command("useradd", "--create-home", u.name).CombinedOutput(); err != nil {
		t.Fatalf("useradd %s: %v: %s", u.name, err, out)
	}
	t.Cleanup(func() { rlRemoveUser(t, u.name, snap) })
	pw, err := user.Lookup(u.name)
	if err != nil {
		t.Fatal(err)
	}
	u.uid, _ = strconv.Atoi(pw.Uid)
	u.gid, _ = strconv.Atoi(pw.Gid)
	u.home, u.xdg = pw.HomeDir, filepath.Join(pw.HomeDir, "run")
	if !strings.Contains("\n"+readFile("/etc/subuid"), "\n"+u.name+":") {
		t.Fatalf("useradd gave %s no /etc/subuid range (SUB_UID_COUNT in /etc/login.defs): rootless podman needs one", u.name)
	}
	u.env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + u.home, "USER=" + u.name, "LOGNAME=" + u.name,
		"XDG_RUNTIME_DIR=" + u.xdg, "CONTAINERS_CONF=" + u.home + "/conf/containers.conf",
		"CONTAINERS_STORAGE_CONF=" + u.home + "/conf/storage.conf", "CONTAINERS_REGISTRIES_CONF=" + u.home + "/conf/registries.conf"}
	catatonit, _ := exec.LookPath("catatonit")
	u.write(t, 0o700, "run", "")
	u.write(t, 0o755, "conf", "")
	u.write(t, 0o644, "conf/containers.conf", fmt.Sprintf(rlPodmanConf, u.home, *hakoBin, catatonit))
	u.write(t, 0o644, "conf/storage.conf", fmt.Sprintf(rlStorageConf, u.home, u.xdg))
	u.write(t, 0o644, "conf/registries.conf", "")
	u.write(t, 0o644, "busybox.tar", readFile(imageTar))
	t.Cleanup(u.cleanup)
	u.podman(t, "").ok("load", "-i", u.home+"/busybox.tar")
	return u
}

// write makes a directory (text "" and a name without a dot) or a file in
// the user's home, owned by the user.
func (u *rlPodman) write(t *testing.T, mode os.FileMode, name, text string) {
	t.Helper()
	p := filepath.Join(u.home, name)
	var err error
	if text == "" && !strings.Contains(name, ".") {
		err = os.Mkdir(p, mode)
	} else {
		err = os.WriteFile(p, []byte(text), mode)
	}
	if err == nil {
		err = os.Chown(p, u.uid, u.gid)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// as runs prog as the user, with the user's environment only.
func (u *rlPodman) as(t *testing.T, prog string, args ...string) tool {
	return tool{t: t, name: "setpriv", args: append(append([]string{"--reuid=" + strconv.Itoa(u.uid), "--regid=" + strconv.Itoa(u.gid),
		"--init-groups", "--", "env", "-i"}, u.env...), append([]string{prog}, args...)...)}
}

// podman is the podman CLI as the user, with runtime (a path) given by
// --runtime; "" leaves hako to containers.conf.
func (u *rlPodman) podman(t *testing.T, runtime string) tool {
	args := []string{"--cgroup-manager", "cgroupfs", "--events-backend", "file"}
	if runtime != "" {
		args = append(args, "--runtime", runtime)
	}
	return u.as(t, "podman", args...)
}

// cleanup removes every container and podman's storage, stops podman's
// pause process (it holds the user namespace between commands, by design),
// and then checks that nothing is left: no process of the user, nothing in
// hako's or runc's state root, no cgroup named after a container.
func (u *rlPodman) cleanup() {
	t := u.t
	p := u.podman(t, "")
	p.run("rm", "--all", "--force", "--time", "0")
	for _, rt := range []string{"hako", "runc"} {
		if ents, err := os.ReadDir(filepath.Join(u.xdg, rt)); err == nil && len(ents) > 0 {
			t.Errorf("leftover: %d entries in %s's state root %s/%s after podman rm (first %s)", len(ents), rt, u.xdg, rt, ents[0].Name())
		}
	}
	p.run("system", "reset", "--force")
	if pid, err := strconv.Atoi(strings.TrimSpace(readFile(u.xdg + "/libpod/tmp/pause.pid"))); err == nil {
		unix.Kill(pid, unix.SIGKILL) // podman's pause process, of this test's user
	}
	var left []int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if left = procsOf(u.uid); len(left) == 0 {
			break
		}
	}
	for _, pid := range left {
		t.Errorf("leftover: process %d %q of %s", pid, strings.ReplaceAll(readFile(fmt.Sprintf("/proc/%d/cmdline", pid)), "\x00", " "), u.name)
		unix.Kill(pid, unix.SIGKILL)
	}
	filepath.WalkDir("/sys/fs/cgroup", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		for _, id := range u.ids {
			if strings.Contains(d.Name(), id) {
				t.Errorf("leftover: cgroup %s of container %s", p, id)
			}
		}
		return nil
	})
	for _, id := range u.ids {
		if _, err := os.Stat("/run/hako/" + id); err == nil {
			t.Errorf("leftover: /run/hako/%s, a rootless container's state in root's state root", id)
		}
	}
}

// procsOf lists the live processes whose real uid is uid.
func procsOf(uid int) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		for _, l := range strings.Split(readFile(d+"/status"), "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" && f[1] == strconv.Itoa(uid) && live(d) {
				pid, _ := strconv.Atoi(filepath.Base(d))
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// rlRemoveUser deletes the user and its home, and puts /etc/subuid and
// /etc/subgid back as they were when only the user's own lines differ
// (userdel removes them itself on Debian 12).
func rlRemoveUser(t *testing.T, name string, snap map[string][]byte) {
	if err := users.Delete(name, true); err != nil {
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
		if strings.Join(keep, "") == string(before) {
			if err := os.WriteFile(file, before, 0o644); err != nil {
				t.Errorf("restore %s: %v", file, err)
			}
		}
	}
}

// TestPodmanRootless drives hako through rootless podman's whole container
// life, and runc through the same sequence to compare.
func TestPodmanRootless(t *testing.T) {
	t.Parallel()
	u := newRLUser(t)
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Fatalf("runc (scripts/engines/setup.sh installs it): %v", err)
	}
	info := u.podman(t, "").ok("info", "--format", "{{.Host.Security.Rootless}} {{.Host.OCIRuntime.Path}} {{.Store.GraphRoot}}").out
	if want := fmt.Sprintf("true %s %s/storage\n", *hakoBin, u.home); info != want {
		t.Errorf("podman info as %s: %q, want rootless, hako from containers.conf and the private store: %q", u.name, info, want)
	}
	for _, rt := range []struct{ name, path string }{{"hako", *hakoBin}, {"runc", runc}} {
		t.Run(rt.name, func(t *testing.T) {
			start := time.Now()
			p := u.podman(t, rt.path)
			rlLife(t, u, p, rt.name)
			t.Logf("%s: the sequence took %v", rt.name, time.Since(start).Round(time.Millisecond))
		})
	}
	t.Run("hako tty, init, keep-id", func(t *testing.T) { rlTTYInit(t, u) })
	t.Run("hako limits, --rootless, state root", func(t *testing.T) { rlLimits(t, u, runc) })
}

// rlLife: run --rm with an exit code, run -d, exec with and without a tty,
// stop, start, restart, kill, rm; everything rootless.
func rlLife(t *testing.T, u *rlPodman, p tool, rt string) {
	r := p.run("run", "--rm", "--pull", "never", imageRef, "sh", "-c", "id -u; cat /proc/1/comm; cat /proc/self/uid_map; exit 3")
	if r.code != 3 {
		t.Errorf("podman run --rm exited %d, want 3: %s", r.code, r)
	}
	// The container is in podman's user namespace: 0 is the user.
	if f := strings.Fields(r.out); len(f) < 5 || f[0] != "0" || f[1] != "sh" || f[2] != "0" || f[3] != strconv.Itoa(u.uid) || f[4] != "1" {
		t.Errorf("podman run: want uid 0, comm sh and uid_map 0 %d 1 (rootless): %s", u.uid, r)
	}

	name := uniq("hako-rl-")
	p.ok("run", "-d", "--pull", "never", "--name", name, imageRef, "sh", "-c", waiter)
	id := strings.TrimSpace(p.ok("inspect", "-f", "{{.Id}}", name).out)
	u.ids = append(u.ids, id)
	state := func() string {
		return strings.TrimSpace(p.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name).out)
	}
	if s := state(); s != "running 0" {
		t.Fatalf("after run -d: %q, want running", s)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(p.ok("inspect", "-f", "{{.State.Pid}}", name).out))
	if owner := rlRealUID(pid); owner != u.uid {
		t.Errorf("the host sees the container's pid 1 (%d) as uid %d, want the user's %d", pid, owner, u.uid)
	}
	if _, err := os.Stat(filepath.Join(u.xdg, rt, id)); err != nil {
		t.Errorf("%s's state is not in $XDG_RUNTIME_DIR/%s: %v", rt, rt, err)
	}

	r = p.run("exec", name, "sh", "-c", "echo exec in $(cat /proc/1/comm); exit 4")
	if r.code != 4 || r.out != "exec in sh\n" {
		t.Errorf("podman exec: want exit 4 and %q: %s", "exec in sh\n", r)
	}
	pp := startPty(t, nil, p.name, append(p.args, "exec", "-it", name, "sh")...)
	pp.expect("# ")
	pp.send("echo exec-tty-$((6*7)); tty; exit 5\r")
	if code, out := pp.wait(); code != 5 || !strings.Contains(out, "exec-tty-42") || !strings.Contains(out, "/dev/pts/") {
		t.Errorf("podman exec -it: exit %d, want 5, and exec-tty-42 and a /dev/pts/ name", code)
	}

	p.ok("stop", "-t", "10", name)
	if s := state(); s != "exited 7" {
		t.Errorf("after stop: %q, want exited 7 (the trap's exit on SIGTERM)", s)
	}
	p.ok("start", name)
	if s := state(); s != "running 0" {
		t.Errorf("after start: %q, want running", s)
	}
	p.ok("restart", "-t", "10", name)
	if s := state(); s != "running 0" {
		t.Errorf("after restart: %q, want running", s)
	}
	p.ok("kill", name)
	p.ok("wait", name)
	if s := state(); s != "exited 137" {
		t.Errorf("after kill: %q, want exited 137 (SIGKILL)", s)
	}
	p.ok("rm", name)
	if _, err := os.Stat(filepath.Join(u.xdg, rt, id)); err == nil {
		t.Errorf("leftover: %s's state dir for %s after podman rm", rt, id)
	}
}

// rlRealUID is the real uid of process pid as the host sees it.
func rlRealUID(pid int) int {
	for _, l := range strings.Split(readFile(fmt.Sprintf("/proc/%d/status", pid)), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return -1
}

// rlTTYInit: podman run -it through a pty, --init (catatonit as pid 1) and
// --userns=keep-id.
func rlTTYInit(t *testing.T, u *rlPodman) {
	p := u.podman(t, "")
	pp := startPty(t, nil, p.name, append(p.args, "run", "--rm", "-it", "--pull", "never", imageRef, "sh")...)
	pp.expect("# ")
	pp.send("echo tty-$((6*7)); tty; exit 3\r")
	if code, out := pp.wait(); code != 3 || !strings.Contains(out, "tty-42") || !strings.Contains(out, "/dev/pts/0") {
		t.Errorf("podman run -it: exit %d, want 3, and tty-42 and /dev/pts/0", code)
	}
	r := p.run("run", "--rm", "--init", "--pull", "never", imageRef, "sh", "-c", "cat /proc/1/comm; exit 6")
	if r.code != 6 || r.out != "podman-init\n" {
		t.Errorf("podman run --init: want exit 6 and pid 1 podman-init (catatonit): %s", r)
	}
	// A user namespace of the container's own inside podman's: hako, uid 0
	// there, writes the maps itself (no newuidmap), setgroups allowed.
	r = p.run("run", "--rm", "--userns=keep-id", "--pull", "never", imageRef, "sh", "-c", "id -u; cat /proc/self/uid_map; cat /proc/self/setgroups")
	mapped := false
	for _, l := range strings.Split(r.out, "\n") {
		mapped = mapped || strings.Join(strings.Fields(l), " ") == fmt.Sprintf("%d 0 1", u.uid)
	}
	if f := strings.Fields(r.out); r.code != 0 || len(f) < 5 || f[0] != strconv.Itoa(u.uid) || !mapped || f[len(f)-1] != "allow" {
		t.Errorf("podman run --userns=keep-id: want the user's uid %d inside, mapped to podman's 0, setgroups allow: %s", u.uid, r)
	}
}

// rlLimits: what the host cannot give a user. On cgroup v1 rootless podman
// drops limits itself and says so; hako, given a limit in podman's user
// namespace (podman unshare), refuses with why and what to do, where runc
// says "cannot set memory limit". --rootless=false makes hako act as real
// root, and so fail on the cgroup root owns; XDG_RUNTIME_DIR unset leaves
// it /run/hako, which it may not write, and it says what to set.
func rlLimits(t *testing.T, u *rlPodman, runc string) {
	p := u.podman(t, "")
	v1 := !isV2Host()
	if v1 {
		r := p.run("run", "--rm", "--pull", "never", "--memory", "64m", imageRef, "cat", "/proc/self/cgroup")
		if r.code != 0 || !strings.Contains(r.err, "Resource limits are not supported and ignored on cgroups V1 rootless systems") {
			t.Errorf("podman run --memory on cgroup v1: want podman's warning and the container run: %s", r)
		}
	}
	bundle := rlBundle(t, u)
	// unshare runs args in podman's user namespace, as podman runs its
	// runtime; "K=V" arguments first set the environment (env(1)).
	unshare := func(args ...string) result {
		return p.run(append([]string{"unshare", "env"}, args...)...)
	}
	limit := int64(64 << 20)
	rlEditBundle(t, u, bundle, func(s *specs.Spec) {
		s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
	})
	id := uniq("hako-rl-")
	u.ids = append(u.ids, id)
	r := unshare(*hakoBin, "run", "--bundle", bundle, id)
	want := []string{"rootless", "linux.resources asks for memory", "EACCES"}
	if v1 {
		want = append(want, "cgroup v1", "drop linux.resources")
	}
	if r.code == 0 || strings.Contains(r.out, "ran") {
		t.Errorf("hako run with a memory limit in podman's user namespace: want an error: %s", r)
	}
	wantOut(t, "hako's error", r.err, want...)
	r = unshare(runc, "run", "--bundle", bundle, id)
	t.Logf("runc says: %s", strings.TrimSpace(r.err))
	if r.code == 0 || !strings.Contains(r.err, "cannot set memory limit") {
		t.Errorf("runc run with a memory limit: want its error: %s", r)
	}
	p.run("unshare", runc, "delete", "--force", id)

	rlEditBundle(t, u, bundle, func(s *specs.Spec) { s.Linux.Resources = nil })
	if r := unshare(*hakoBin, "run", "--bundle", bundle, id); r.code != 0 || r.out != "ran\n" {
		t.Errorf("hako run without limits in podman's user namespace: %s", r)
	}
	r = unshare(*hakoBin, "--rootless=false", "run", "--bundle", bundle, id)
	if r.code == 0 || !strings.Contains(r.err, "cgroup mkdir") || !strings.Contains(r.err, "EACCES") {
		t.Errorf("hako --rootless=false in podman's user namespace: want the cgroup's EACCES: %s", r)
	}
	r = unshare("XDG_RUNTIME_DIR=", *hakoBin, "run", "--bundle", bundle, id)
	if r.code == 0 || !strings.Contains(r.err, "/run/hako") || !strings.Contains(r.err, "set XDG_RUNTIME_DIR") || !strings.Contains(r.err, "--root") {
		t.Errorf("hako run in podman's user namespace without XDG_RUNTIME_DIR: want an error naming /run/hako, XDG_RUNTIME_DIR and --root: %s", r)
	}
	r = unshare(*hakoBin, "features")
	var f struct{ Annotations map[string]string }
	if err := json.Unmarshal([]byte(r.out), &f); err != nil || f.Annotations["org.hako.rootless"] != "true" ||
		!strings.Contains(f.Annotations["org.hako.rootless.who"], "uid 0 of a user namespace") {
		t.Errorf("hako features in podman's user namespace: want org.hako.rootless true, uid 0 of a user namespace: %v: %s", err, r)
	}
}

// rlBundle makes a bundle the user owns: busybox (from the test image's
// source) and `hako spec`'s config, made as the user inside podman's user
// namespace, with `echo ran` as its process.
func rlBundle(t *testing.T, u *rlPodman) string {
	bundle := filepath.Join(u.home, "bundle")
	for _, d := range []string{"", "/rootfs", "/rootfs/bin", "/rootfs/proc", "/rootfs/sys", "/rootfs/dev", "/rootfs/tmp"} {
		u.write(t, 0o755, "bundle"+d, "")
	}
	u.write(t, 0o755, "bundle/rootfs/bin/busybox", readFile("/bin/busybox"))
	if err := os.Symlink("busybox", bundle+"/rootfs/bin/sh"); err != nil {
		t.Fatal(err)
	}
	os.Lchown(bundle+"/rootfs/bin/sh", u.uid, u.gid)
	u.podman(t, "").ok("unshare", *hakoBin, "spec", "--bundle", bundle)
	rlEditBundle(t, u, bundle, func(s *specs.Spec) {
		s.Process.Terminal = false
		s.Process.Args = []string{"sh", "-c", "echo ran"}
	})
	return bundle
}

func rlEditBundle(t *testing.T, u *rlPodman, bundle string, edit func(*specs.Spec)) {
	t.Helper()
	var s specs.Spec
	p := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(p)
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil {
		t.Fatal(err)
	}
	edit(&s)
	if b, err = json.Marshal(&s); err == nil {
		err = os.WriteFile(p, b, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// isV2Host: /sys/fs/cgroup is a cgroup2 mount.
func isV2Host() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}
