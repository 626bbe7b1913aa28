package hk

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"hako/tests/internal/users"
)

// boxRootless is hk run as a fresh ordinary user with a subordinate ID
// range (useradd gives it one), its roots in its home; the user is
// removed at the end.
func boxRootless(t *testing.T) *hkEnv {
	t.Helper()
	h := newHK(t)
	for _, tool := range []string{"useradd", "userdel", "setpriv", "newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("rootless hk needs %s: %v", tool, err)
		}
	}
	name := uniq("hkbox")
	if out, err := exec.Command("useradd", "--create-home", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v: %s", err, out)
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := users.Delete(name, true); err != nil {
			t.Error(err)
		}
	})
	sub, _ := os.ReadFile("/etc/subuid")
	if !strings.Contains(string(sub), name+":") {
		t.Skipf("useradd gave %s no subordinate range (SUB_UID_COUNT in /etc/login.defs)", name)
	}
	xdg := filepath.Join(u.HomeDir, "xdg")
	os.Mkdir(xdg, 0o700)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	os.Chown(xdg, uid, gid)
	h.root, h.runroot = filepath.Join(u.HomeDir, "root"), filepath.Join(xdg, "hk")
	h.prefix = []string{"setpriv", "--reuid=" + u.Uid, "--regid=" + u.Gid, "--init-groups",
		"env", "HOME=" + u.HomeDir, "USER=" + name, "XDG_RUNTIME_DIR=" + xdg}
	return h
}

// boxRootlessImage imports the busybox rootfs as the user (unpacked as
// uid 0 of its subuid namespace).
func boxRootlessImage(t *testing.T, h *hkEnv, ref string) string {
	t.Helper()
	tar := filepath.Join(filepath.Dir(h.root), "rootfs.tar") // the home: readable by the user
	if err := os.WriteFile(tar, imgRootfsTar(t), 0o644); err != nil {
		t.Fatal(err)
	}
	h.ok("import", "--change", `CMD ["sh"]`, tar, ref)
	return ref
}

// The same commands as an ordinary user: root inside is the user, uids
// above 0 are its subordinate range; detached containers, logs, exec,
// stop, rm; a limit this host cannot give a user is a clear error.
func TestBoxRootless(t *testing.T) {
	t.Parallel()
	h := boxRootless(t)
	img := boxRootlessImage(t, h, "rl")
	r := h.ok("run", "--rm", "--hostname", "rlbox", img, "sh", "-c", "id -u; hostname; cat /proc/self/uid_map | wc -l; touch /tmp/x && chown 1000 /tmp/x && ls -ln /tmp/x")
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 4 || lines[0] != "0" || lines[1] != "rlbox" || strings.TrimSpace(lines[2]) != "2" || !strings.Contains(lines[3], " 1000 ") {
		t.Errorf("rootless run: %s", r)
	}
	// host network (sysfs is then the host's, bound read-only), --init,
	// and the copy fallback, as a user.
	hostNet, _ := os.Readlink("/proc/self/ns/net")
	if r := h.ok("run", "--rm", "--network", "host", "--init", img, "sh", "-c", "readlink /proc/self/ns/net; echo $$"); r.out != hostNet+"\n2\n" {
		t.Errorf("rootless --network host --init: %s", r)
	}
	if r := h.ok("run", "--rm", "--storage-driver", "vfs", img, "sh", "-c", "touch /x && echo vfs"); r.out != "vfs\n" {
		t.Errorf("rootless vfs: %s", r)
	}
	h.ok("run", "-d", "--name", "d", img, "sh", "-c", "echo hello; while true; do sleep 0.1; done")
	boxWaitLog(t, h, "d", "hello")
	if r := h.ok("ps"); !strings.Contains(r.out, "Up ") {
		t.Errorf("ps: %s", r)
	}
	if r := h.ok("exec", "-u", "nobody", "d", "id", "-u"); r.out != "65534\n" {
		t.Errorf("exec -u nobody: %s", r)
	}
	h.ok("stop", "-t", "1", "d")
	if r := h.ok("wait", "d"); r.out != "137\n" {
		t.Errorf("wait: %s", r)
	}
	h.ok("start", "d")
	h.ok("restart", "-t", "0", "d")
	if r := h.ok("top", "d"); !strings.Contains(r.out, "while true") {
		t.Errorf("top: %s", r)
	}
	if r := h.ok("inspect", "-f", "{{.State.Status}} {{.Name}}", "d"); r.out != "running /d\n" {
		t.Errorf("inspect: %q", r.out)
	}
	// No cgroup for a user on a v1 (or hybrid) host: pause and stats say
	// why. (Pure v2 with a delegated subtree would give it one.)
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		h.fails([]string{"no cgroup", "cannot be paused"}, "pause", "d")
		h.fails([]string{"no cgroup", "measured"}, "stats", "--no-stream", "d")
	}
	h.ok("kill", "d")
	if r := h.ok("wait", "d"); r.out != "137\n" {
		t.Errorf("wait after kill: %s", r)
	}
	if r := h.ok("logs", "--tail", "1", "d"); r.out != "hello\n" {
		t.Errorf("logs --tail 1 after three runs: %q", r.out)
	}
	h.ok("rm", "d")
	h.ok("create", "--name", "c", img, "echo", "made")
	if r := h.ok("start", "-a", "c"); r.out != "made\n" {
		t.Errorf("create + start -a: %s", r)
	}
	h.ok("rm", "c")
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		// a limit this host cannot give a user
		h.fails([]string{"memory"}, "run", "--rm", "-m", "64m", img, "true")
	}
	boxNothingLeft(t, h, "")
}
