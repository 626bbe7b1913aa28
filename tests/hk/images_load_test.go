package hk

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hako/tests/internal/busyboximage"
)

// imgArchive is the engines' test archive (docker save + OCI layout in
// one tar) with two images sharing a layer.
func imgArchive(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "images.tar")
	err := busyboximage.WriteArchive(p, "/bin/busybox",
		busyboximage.Image{Ref: "docker.io/hako-e2e/busybox:latest", Cmd: []string{"sh"}},
		busyboximage.Image{Ref: "127.0.0.1:5000/hk/pause:1", Cmd: []string{"sleep", "inf"}})
	if err != nil {
		t.Skip(err)
	}
	return p
}

// imgWithout copies a tar without the entries named drop.
func imgWithout(t *testing.T, src string, drop string) string {
	in, _ := os.Open(src)
	defer in.Close()
	dst := filepath.Join(t.TempDir(), "out.tar")
	out, _ := os.Create(dst)
	defer out.Close()
	tr, tw := tar.NewReader(in), tar.NewWriter(out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == drop {
			continue
		}
		tw.WriteHeader(h)
		io.Copy(tw, tr)
	}
	tw.Close()
	return dst
}

// load (docker archive, OCI layout, stdin), save, and load again: the
// same images, names and IDs; podman loads hk's archive too.
func TestImgLoadSave(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	arch := imgArchive(t)
	r := h.ok("load", "-i", arch)
	if r.out != "Loaded image: hako-e2e/busybox:latest\nLoaded image: 127.0.0.1:5000/hk/pause:1\n" {
		t.Errorf("load: %q", r.out)
	}
	ids := h.ok("images", "-q", "--no-trunc").out
	if len(strings.Fields(ids)) != 2 {
		t.Fatalf("images: %q", ids)
	}
	if ents, _ := os.ReadDir(filepath.Join(h.root, "image", "layers")); len(ents) != 1 {
		t.Errorf("%d layers, want 1 shared", len(ents))
	}
	out := filepath.Join(t.TempDir(), "saved.tar")
	h.ok("image", "save", "-o", out, "hako-e2e/busybox", "127.0.0.1:5000/hk/pause:1")
	h.ok("rmi", "hako-e2e/busybox", "127.0.0.1:5000/hk/pause:1")
	imgStoreEmpty(t, h)
	h.ok("image", "load", "-q", "-i", out) // Docker's other name
	if got := h.ok("images", "-q", "--no-trunc").out; got != ids {
		t.Errorf("after save and load: %q, want %q", got, ids)
	}
	h.ok("rmi", "hako-e2e/busybox", "127.0.0.1:5000/hk/pause:1")
	// The OCI layout alone (no manifest.json), from stdin.
	data, _ := os.ReadFile(imgWithout(t, out, "manifest.json"))
	if r := h.runIn(data, "load"); r.code != 0 || !strings.Contains(r.out, "Loaded image: hako-e2e/busybox:latest") {
		t.Errorf("load of the OCI layout: %s", r)
	}
	if got := h.ok("images", "-q", "--no-trunc").out; got != ids {
		t.Errorf("from the OCI layout: %q, want %q", got, ids)
	}
	if _, err := exec.LookPath("podman"); err == nil {
		dir := t.TempDir()
		cmd := exec.Command("podman", "--root", dir+"/root", "--runroot", dir+"/run", "--storage-driver", "vfs", "load", "-i", out)
		if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "hako-e2e/busybox:latest") {
			t.Errorf("podman load of hk save's archive: %v\n%s", err, b)
		}
		exec.Command("podman", "--root", dir+"/root", "--runroot", dir+"/run", "--storage-driver", "vfs", "system", "reset", "-f").Run()
	}
}

func TestImgLoadBad(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	arch, _ := os.ReadFile(imgArchive(t))
	h.fails([]string{"corrupt or truncated tar"}, "load", "-i", imgWrite(t, bytes.Repeat([]byte("garbage!"), 512)))
	h.fails([]string{"corrupt or truncated tar"}, "load", "-i", imgWrite(t, arch[:len(arch)*2/3]))
	h.fails([]string{"neither a docker save archive"}, "load", "-i", imgWrite(t, imgRootfsTar(t)))
	h.fails([]string{"no such file"}, "load", "-i", "/nonexistent.tar")
	// A symlink out of the archive: never followed to the host's file.
	var evil bytes.Buffer
	tw := tar.NewWriter(&evil)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"})
	tw.WriteHeader(&tar.Header{Name: "blobs/sha256/x", Typeflag: tar.TypeSymlink, Linkname: "../../../../../../etc/passwd"})
	tw.Close()
	h.fails([]string{"a symlink out of the archive"}, "load", "-i", imgWrite(t, evil.Bytes()))
	h.fails([]string{"no such image"}, "save", "-o", filepath.Join(t.TempDir(), "x.tar"), "nope")
	if r := h.ok("images", "-q"); r.out != "" {
		t.Errorf("images: %q", r.out)
	}
	imgStoreEmpty(t, h)
}

// Docker 25's save links each legacy layer.tar to its blob: symlinks that
// stay inside the archive load.
func TestImgLoadInternalLinks(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	in, err := os.Open(imgArchive(t))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	tr, tw := tar.NewReader(in), tar.NewWriter(&out)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if hdr.Name == "manifest.json" {
			var m []map[string]any
			json.Unmarshal(data, &m)
			for i, e := range m {
				layers := e["Layers"].([]any)
				for j, l := range layers {
					link := filepath.Join("legacy", strings.TrimPrefix(l.(string), "blobs/sha256/"), "layer.tar")
					tw.WriteHeader(&tar.Header{Name: link, Typeflag: tar.TypeSymlink, Linkname: "../../" + l.(string)})
					layers[j] = link
				}
				m[i]["Layers"] = layers
			}
			data, _ = json.Marshal(m)
			hdr.Size = int64(len(data))
		}
		tw.WriteHeader(hdr)
		tw.Write(data)
	}
	tw.Close()
	if r := h.runIn(out.Bytes(), "load"); r.code != 0 || !strings.Contains(r.out, "Loaded image: hako-e2e/busybox:latest") {
		t.Errorf("load with internal links: %s", r)
	}
}
