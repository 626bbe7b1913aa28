package hk

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"hako/tests/internal/users"
)

// imgUser is an ordinary user made for the test (useradd gives it a
// subordinate ID range), removed with its home at the end, with
// /etc/subuid and /etc/subgid as they were.
type imgUser struct {
	name, home       string
	uid, gid, subuid int
}

func imgNewUser(t *testing.T) *imgUser {
	t.Helper()
	for _, tool := range []string{"useradd", "userdel", "setpriv", "newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("rootless tests need %s", tool)
		}
	}
	snap := map[string][]byte{}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		snap[f], _ = os.ReadFile(f)
	}
	b := make([]byte, 4)
	rand.Read(b)
	u := &imgUser{name: "hkimg" + hex.EncodeToString(b)}
	if out, err := exec.Command("useradd", "--create-home", u.name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v %s", err, out)
	}
	t.Cleanup(func() {
		if err := users.Delete(u.name, true); err != nil {
			t.Error(err)
		}
		for f, before := range snap {
			now, _ := os.ReadFile(f)
			var keep []string
			for _, l := range strings.SplitAfter(string(now), "\n") {
				if !strings.HasPrefix(l, u.name+":") {
					keep = append(keep, l)
				}
			}
			if strings.Join(keep, "") == string(before) && string(now) != string(before) {
				os.WriteFile(f, before, 0o644)
			}
		}
	})
	pw, err := user.Lookup(u.name)
	if err != nil {
		t.Fatal(err)
	}
	u.home = pw.HomeDir
	u.uid, _ = strconv.Atoi(pw.Uid)
	u.gid, _ = strconv.Atoi(pw.Gid)
	sub, _ := os.ReadFile("/etc/subuid")
	for _, l := range strings.Split(string(sub), "\n") {
		if f := strings.Split(l, ":"); len(f) == 3 && f[0] == u.name {
			u.subuid, _ = strconv.Atoi(f[1])
		}
	}
	if u.subuid == 0 {
		t.Skipf("useradd gave %s no subordinate uids", u.name)
	}
	return u
}

// imgRootlessHK is hk run as the user (setpriv), with its own default
// roots: ~/.local/share/hako and $XDG_RUNTIME_DIR/hk.
func imgRootlessHK(t *testing.T, u *imgUser) *hkEnv {
	h := newHK(t)
	xdg := filepath.Join(u.home, "run")
	os.Mkdir(xdg, 0o700)
	os.Chown(xdg, u.uid, u.gid)
	h.root, h.runroot = filepath.Join(u.home, ".local/share/hako"), filepath.Join(xdg, "hk")
	h.prefix = []string{"setpriv", "--reuid=" + strconv.Itoa(u.uid), "--regid=" + strconv.Itoa(u.gid), "--init-groups", "--"}
	h.env = []string{"HOME=" + u.home, "USER=" + u.name, "LOGNAME=" + u.name, "XDG_RUNTIME_DIR=" + xdg,
		"XDG_DATA_HOME=", "XDG_CONFIG_HOME=", "REGISTRY_AUTH_FILE=", "DOCKER_CONFIG="}
	return h
}

// The user's file for the user to read.
func (u *imgUser) write(t *testing.T, name string, data []byte) string {
	p := filepath.Join(u.home, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chown(p, u.uid, u.gid)
	return p
}

// Rootless import, pull, rmi: layer files owned as the container will
// see them (podman's layout: 0 = the user, N = subuid base + N - 1),
// whiteouts and opaque directories in the form overlayfs takes in a user
// namespace, and rmi removes it all.
func TestImgRootless(t *testing.T) {
	u := imgNewUser(t)
	h := imgRootlessHK(t, u)
	// An owner beyond the user's 65,536 subordinate IDs: a clear error,
	// nothing left.
	var big bytes.Buffer
	bw := tar.NewWriter(&big)
	bw.WriteHeader(&tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644, Uid: 70000, Gid: 70000})
	bw.Close()
	h.fails([]string{"chown 70000:70000", "subordinate ID range"}, "import", u.write(t, "big.tar", big.Bytes()), "big:1")
	imgStoreEmpty(t, h)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mt := time.Unix(1700000000, 0)
	tw.WriteHeader(&tar.Header{Name: "home/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mt})
	tw.WriteHeader(&tar.Header{Name: "home/app/", Typeflag: tar.TypeDir, Mode: 0o700, Uid: 1000, Gid: 1000, ModTime: mt})
	tw.WriteHeader(&tar.Header{Name: "home/app/.wh..wh..opq", Typeflag: tar.TypeReg, ModTime: mt})
	tw.WriteHeader(&tar.Header{Name: "home/app/f", Typeflag: tar.TypeReg, Mode: 0o4755, Size: 2, Uid: 1000, Gid: 1000, ModTime: mt})
	tw.Write([]byte("hi"))
	tw.WriteHeader(&tar.Header{Name: "etc/.wh.gone", Typeflag: tar.TypeReg, ModTime: mt})
	tw.WriteHeader(&tar.Header{Name: "dev/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o666, ModTime: mt})
	tw.Close()
	h.ok("import", u.write(t, "layer.tar", buf.Bytes()), "rl:1")
	if _, err := os.Stat("/var/lib/hako/image/meta.db"); err == nil {
		t.Log("note: /var/lib/hako exists (not made by this test)")
	}
	lower := imgInspect(t, h, "rl:1")["GraphDriver"].(map[string]any)["Data"].(map[string]any)["LowerDir"].(string)
	if !strings.HasPrefix(lower, filepath.Join(u.home, ".local/share/hako/image/layers")) {
		t.Fatalf("layer at %s, not under the user's root", lower)
	}
	own := func(name string, uid int, mode uint32) {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(lower, name), &st); err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		if int(st.Uid) != uid || mode != 0 && st.Mode != mode {
			t.Errorf("%s: uid %d mode %o; want %d %o", name, st.Uid, st.Mode, uid, mode)
		}
	}
	own("home", u.uid, unix.S_IFDIR|0o755)
	own("home/app", u.subuid+999, unix.S_IFDIR|0o700)
	own("home/app/f", u.subuid+999, unix.S_IFREG|0o4755)
	own("etc/gone", u.uid, unix.S_IFCHR)
	if _, err := os.Lstat(filepath.Join(lower, "dev/null")); err == nil {
		t.Error("rootless unpack made a device")
	}
	val := make([]byte, 4)
	if n, err := unix.Lgetxattr(filepath.Join(lower, "home/app"), "user.overlay.opaque", val); err != nil || string(val[:n]) != "y" {
		t.Errorf("home/app: user.overlay.opaque %q %v", val[:n], err)
	}
	// A pull, as the user, from a registry on 127.0.0.1.
	reg := imgStartRegistry(t, imgRegOpts{})
	reg.push("hk/rl:1", imgBuild(t, runtime.GOARCH, []string{"sh"}, imgTarLayer(t, imgRootfsTar(t))))
	h.ok("pull", "-q", reg.Addr+"/hk/rl:1")
	if r := h.ok("images", "--format", "{{.Repository}}:{{.Tag}}"); !strings.Contains(r.out, "rl:1") || !strings.Contains(r.out, reg.Addr+"/hk/rl:1") {
		t.Errorf("images: %s", r.out)
	}
	h.ok("rmi", "rl:1", reg.Addr+"/hk/rl:1")
	// load and save, and prune, as the user.
	arch, _ := os.ReadFile(imgArchive(t))
	h.ok("load", "-i", u.write(t, "images.tar", arch))
	saved := filepath.Join(u.home, "saved.tar")
	h.ok("save", "-o", saved, "hako-e2e/busybox")
	if fi, err := os.Stat(saved); err != nil || fi.Size() < 1<<20 {
		t.Errorf("save as the user: %v %v", fi, err)
	}
	if r := h.ok("image", "prune", "-af"); !strings.Contains(r.out, "deleted: sha256:") {
		t.Errorf("prune -a as the user: %s", r.out)
	}
	for _, d := range []string{"layers", "blobs/sha256", "tmp"} {
		if ents, _ := os.ReadDir(filepath.Join(h.root, "image", d)); len(ents) != 0 {
			t.Errorf("image/%s: %d entries left", d, len(ents))
		}
	}
}
