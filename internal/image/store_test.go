package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestParseRef(t *testing.T) {
	for in, want := range map[string]string{
		"busybox":                         "docker.io/library/busybox:latest",
		"busybox:1.36":                    "docker.io/library/busybox:1.36",
		"me/app":                          "docker.io/me/app:latest",
		"localhost/app":                   "localhost/app:latest",
		"127.0.0.1:5000/a/b:v1":           "127.0.0.1:5000/a/b:v1",
		"reg.example:5000/x@sha256:" + h0: "reg.example:5000/x@sha256:" + h0,
		"a__b.c-d--e":                     "docker.io/library/a__b.c-d--e:latest",
	} {
		r, err := ParseRef(in)
		if err != nil || r.String() != want {
			t.Errorf("ParseRef(%q) = %q, %v; want %q", in, r.String(), err, want)
		}
	}
	for _, in := range []string{"", "Busybox", "a:b:c", "x@sha256:12", "a/-b", "a..b", ":tag", "a:-x", "a/"} {
		if _, err := ParseRef(in); err == nil {
			t.Errorf("ParseRef(%q) accepted", in)
		}
	}
}

var h0 = fmt.Sprintf("%064d", 0)

// testImage adds an image whose layers are the given tars.
func testImage(t testing.TB, s *Store, names []string, layers ...[]byte) *Image {
	t.Helper()
	var ls []Layer
	var diffs []string
	for _, l := range layers {
		sum := sha256.Sum256(l)
		d := "sha256:" + hex.EncodeToString(sum[:])
		diffs = append(diffs, d)
		ls = append(ls, Layer{DiffID: d, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(l)), nil }})
	}
	cfg, _ := json.Marshal(map[string]any{"os": "linux", "architecture": "amd64", "config": map[string]any{"Cmd": []string{"sh"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffs}, "x": names})
	img, err := s.Add(New{Config: cfg, Layers: ls, Names: names, Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestStore(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	base := mkTar(t, ent{name: "bin/", typ: tar.TypeDir, mode: 0o755}, ent{name: "bin/sh", body: "shell"})
	top := mkTar(t, ent{name: "etc/hostname", body: "h"})
	a := testImage(t, s, []string{"busybox", "busybox:1"}, base, top)
	b := testImage(t, s, []string{"127.0.0.1:5000/b:v"}, base)
	if len(a.Layers) != 2 || a.Layers[0] != b.Layers[0] || a.Size != 6 || a.Config.Cmd[0] != "sh" {
		t.Fatalf("a: %+v\nb: %+v", a, b)
	}
	if data, err := os.ReadFile(filepath.Join(a.Layers[1], "etc/hostname")); err != nil || string(data) != "h" {
		t.Errorf("layer content: %q %v", data, err)
	}
	for _, ref := range []string{"busybox", "docker.io/library/busybox:latest", "busybox:1", a.ID, a.ID[7:12]} {
		if got, err := s.Get(ref); err != nil || got.ID != a.ID {
			t.Errorf("Get(%q): %v", ref, err)
		}
	}
	for _, ref := range []string{"nope", "busybox:2", "sha256:" + h0, "Bad Ref"} {
		if _, err := s.Get(ref); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): %v, want ErrNotFound", ref, err)
		}
	}
	if _, err := s.Tag("127.0.0.1:5000/b:v", "busybox:1"); err != nil { // takes the name from a
		t.Fatal(err)
	}
	if got, _ := s.Get("busybox:1"); got.ID != b.ID {
		t.Error("tag did not move busybox:1")
	}
	// Held: refused, and with force only untagged.
	if err := s.Hold(b.ID, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(b.ID, false); err == nil {
		t.Error("removed an image with two names by ID without force")
	}
	if _, err := s.Remove("busybox:1", false); err != nil { // untag only: b has another name
		t.Error(err)
	}
	if _, err := s.Remove("127.0.0.1:5000/b:v", false); !errors.Is(err, ErrInUse) {
		t.Errorf("removed a held image: %v", err)
	}
	rm, err := s.Remove("127.0.0.1:5000/b:v", true)
	if err != nil || len(rm.Deleted) != 0 {
		t.Errorf("forced removal of a held image: %+v %v", rm, err)
	}
	if got, err := s.Get(b.ID); err != nil || len(got.Names) != 0 || len(got.Holders) != 1 {
		t.Errorf("held image after rmi -f: %+v %v", got, err)
	}
	s.Release(b.ID, "c1")
	s.Release(b.ID, "c1") // idempotent
	rm, err = s.Prune(false)
	if err != nil || len(rm.Deleted) != 1 || rm.Deleted[0] != b.ID {
		t.Errorf("prune: %+v %v", rm, err)
	}
	// a's layers stay; then a goes and everything with it.
	if _, err := os.Stat(a.Layers[0]); err != nil {
		t.Error("a shared layer went with b")
	}
	rm, err = s.Remove("busybox", false)
	if err != nil || len(rm.Deleted) != 1 {
		t.Fatalf("rmi busybox: %+v %v", rm, err)
	}
	for _, d := range []string{"layers", "blobs/sha256", "tmp"} {
		if ents, _ := os.ReadDir(filepath.Join(root, "image", d)); len(ents) != 0 {
			t.Errorf("%s left: %v", d, ents)
		}
	}
}

// Leftovers of a killed command are removed by the next one; concurrent
// adds of one image give one image and one copy of each layer.
func TestStoreCrashAndConcurrency(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	s, _ := Open(root)
	os.MkdirAll(s.tmpName("layer")+"/diff/x", 0o755)
	s, _ = Open(root)
	if ents, _ := os.ReadDir(filepath.Join(root, "image", "tmp")); len(ents) != 0 {
		t.Errorf("tmp not cleaned: %v", ents)
	}
	layer := mkTar(t, ent{name: "big", body: string(bytes.Repeat([]byte("x"), 1<<20))})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, _ := Open(root)
			testImage(t, s, []string{"same"}, layer)
		}()
	}
	wg.Wait()
	list, _ := s.List()
	ents, _ := os.ReadDir(filepath.Join(root, "image", "layers"))
	if len(list) != 1 || len(ents) != 1 {
		t.Errorf("%d images, %d layers", len(list), len(ents))
	}
}
