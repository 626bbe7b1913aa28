package hk

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// imgStart starts hk with args without waiting for it.
func imgStart(h *hkEnv, args ...string) *exec.Cmd {
	h.t.Helper()
	argv := append(append(append([]string{}, h.prefix...), hkBin(), "--root", h.root, "--runroot", h.runroot), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), h.env...)
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	return cmd
}

// imgConsistent checks that every image `images` lists is whole: its
// layer directories are there.
func imgConsistent(t *testing.T, h *hkEnv) int {
	t.Helper()
	ids := strings.Fields(h.ok("images", "-q", "--no-trunc").out)
	for _, id := range ids {
		in := imgInspect(t, h, id)
		for _, l := range strings.Split(in["GraphDriver"].(map[string]any)["Data"].(map[string]any)["LowerDir"].(string), ":") {
			if _, err := os.Stat(filepath.Join(l, "..", "size")); err != nil {
				t.Errorf("image %s lists layer %s, which is not whole: %v", id, l, err)
			}
		}
	}
	return len(ids)
}

// imgBigImage pushes an image with a 3-layer rootfs of ~12 MB of
// incompressible files, long enough to unpack that kills land in it.
func imgBigImage(t *testing.T, reg *imgRegistry, repoTag string) {
	files := func(n int) map[string]string {
		m := map[string]string{}
		for i := 0; i < n; i++ {
			b := make([]byte, 256<<10)
			rand.Read(b)
			m[filepath.Join("data", uniq("f"))] = string(b)
		}
		return m
	}
	reg.push(repoTag, imgBuild(t, runtime.GOARCH, []string{"sh"}, imgTarLayer(t, imgRootfsTar(t)), imgLayer(t, files(16)), imgLayer(t, files(32))))
}

// Two pulls of one image at once, and a pull racing an rmi: every
// command ends cleanly and the store stays whole.
func TestImgConcurrentPulls(t *testing.T) {
	t.Parallel()
	reg := imgStartRegistry(t, imgRegOpts{})
	h := newHK(t)
	imgBigImage(t, reg, "hk/big:1")
	ref := reg.Addr + "/hk/big:1"
	var wg sync.WaitGroup
	res := make([]result, 2)
	for i := range res {
		wg.Add(1)
		go func() { defer wg.Done(); res[i] = h.run("pull", "-q", ref) }()
	}
	wg.Wait()
	for _, r := range res {
		if r.code != 0 {
			t.Errorf("concurrent pull: %s", r)
		}
	}
	if n := imgConsistent(t, h); n != 1 {
		t.Errorf("%d images after two pulls of one", n)
	}
	if ents, _ := os.ReadDir(filepath.Join(h.root, "image", "layers")); len(ents) != 3 {
		t.Errorf("%d layer directories, want 3", len(ents))
	}
	h.ok("rmi", ref)
	for i := 0; i < 2; i++ {
		pull := imgStart(h, "pull", "-q", ref)
		for j := 0; j < 10; j++ {
			h.run("rmi", ref) // may find it or not
			time.Sleep(time.Duration(j*10) * time.Millisecond)
		}
		if err := pull.Wait(); err != nil {
			t.Errorf("pull racing rmi: %v", err)
		}
		imgConsistent(t, h)
	}
	h.run("rmi", ref)
	imgStoreEmpty(t, h)
}

// SIGKILL at six moments of a pull, and of an rmi (fetch, unpack, commit; the last
// mid-download through a slowed proxy): `images`
// never shows a half image, and the next pull works and leaves a store
// that rmi empties.
func TestImgKillDuringPull(t *testing.T) {
	t.Parallel()
	reg := imgStartRegistry(t, imgRegOpts{})
	h := newHK(t)
	imgBigImage(t, reg, "hk/big:1")
	ref := reg.Addr + "/hk/big:1"
	start := time.Now()
	h.ok("pull", "-q", ref)
	full := time.Since(start)
	h.ok("rmi", ref)
	killed := 0
	const points = 6
	for i := 1; i <= points; i++ {
		if i == points {
			reg.slow.Store(true) // the last ones die mid-download
		}
		pull := imgStart(h, "pull", "-q", ref)
		time.Sleep(full * time.Duration(i) / (points + 1))
		pull.Process.Signal(syscall.SIGKILL)
		pull.Wait()
		if ws, ok := pull.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			killed++
		}
		reg.slow.Store(false)
		if n := imgConsistent(t, h); n > 1 {
			t.Errorf("%d images", n)
		}
		h.ok("pull", "-q", ref)
		imgConsistent(t, h)
		// And an rmi killed part way: the next rmi (or `images`) finds a
		// whole image or none, and the store ends empty.
		rmi := imgStart(h, "rmi", ref)
		time.Sleep(time.Duration(i*8) * time.Millisecond)
		rmi.Process.Signal(syscall.SIGKILL)
		rmi.Wait()
		if imgConsistent(t, h) == 1 {
			h.ok("rmi", ref)
		} else {
			h.ok("image", "prune", "-f") // sweeps what the killed rmi left
		}
		imgStoreEmpty(t, h)
	}
	t.Logf("a pull takes %v; %d of %d killed before they ended", full, killed, points)
	if killed < 2 {
		t.Errorf("only %d pulls died by the kill: the test did not test", killed)
	}
}
