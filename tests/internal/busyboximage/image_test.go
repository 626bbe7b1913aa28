package busyboximage

import (
	"archive/tar"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteArchiveAndRootfs(t *testing.T) {
	const busybox = "/bin/busybox"
	if _, err := os.Stat(busybox); err != nil {
		t.Skip("no busybox-static:", err)
	}
	dir := t.TempDir()
	archive := filepath.Join(dir, "image.tar")
	if err := WriteArchive(archive, busybox, Image{"example/busybox:latest", []string{"sh"}}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string][]byte{}
	tr := tar.NewReader(f)
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		names[h.Name] = b
	}
	var manifest []struct{ RepoTags []string }
	if err := json.Unmarshal(names["manifest.json"], &manifest); err != nil || len(manifest) != 1 || manifest[0].RepoTags[0] != "example/busybox:latest" {
		t.Fatalf("manifest.json: %s (%v)", names["manifest.json"], err)
	}
	for _, n := range []string{"oci-layout", "index.json"} {
		if _, ok := names[n]; !ok {
			t.Errorf("no %s in the archive", n)
		}
	}

	root := filepath.Join(dir, "rootfs")
	if err := WriteRootfs(root, busybox); err != nil {
		t.Fatal(err)
	}
	if l, err := os.Readlink(filepath.Join(root, "bin/sh")); err != nil || l != "busybox" {
		t.Errorf("bin/sh -> %q, %v; want busybox", l, err)
	}
	if st, err := os.Stat(filepath.Join(root, "tmp")); err != nil || st.Mode()&os.ModeSticky == 0 {
		t.Errorf("tmp: %v, %v; want sticky", st.Mode(), err)
	}
}
