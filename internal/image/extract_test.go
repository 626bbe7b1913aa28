package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ent is one tar entry of a test layer.
type ent struct {
	name, link, body string
	typ              byte
	mode             int64
	uid, gid         int
	xattrs           map[string]string
}

func mkTar(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			Size: int64(len(e.body)), ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		for k, v := range e.xattrs {
			if h.PAXRecords == nil {
				h.PAXRecords = map[string]string{}
			}
			h.PAXRecords["SCHILY.xattr."+k] = v
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	return buf.Bytes()
}

// unpackIn unpacks the entries into dir/layer, with dir/outside next to it
// as the place an escape would reach.
func unpackIn(t *testing.T, ents ...ent) (layer, outside string, err error) {
	t.Helper()
	dir := t.TempDir()
	layer, outside = filepath.Join(dir, "layer"), filepath.Join(dir, "outside")
	for _, d := range []string{layer, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, err = Unpack(layer, bytes.NewReader(mkTar(t, ents...)), UnpackOptions{})
	return layer, outside, err
}

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (chown, devices, trusted xattrs)")
	}
}

// Names that climb out, absolute or not, land inside the layer.
func TestUnpackConfinesNames(t *testing.T) {
	needRoot(t)
	for _, name := range []string{"../outside/x", "/../outside/x", "a/../../outside/x", "/outside/x"} {
		layer, outside, err := unpackIn(t, ent{name: name, body: "evil"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := os.Stat(filepath.Join(outside, "x")); err == nil {
			t.Errorf("%s: written outside the layer", name)
		}
		if b, err := os.ReadFile(filepath.Join(layer, "outside", "x")); err != nil || string(b) != "evil" {
			t.Errorf("%s: not inside the layer as outside/x: %q %v", name, b, err)
		}
	}
}

// A symlink that points out, absolute or relative, is followed only
// inside the layer by later entries.
func TestUnpackSymlinkCannotLeadOut(t *testing.T) {
	needRoot(t)
	for _, target := range []string{"../outside", "/", "/../../outside", "../../.."} {
		layer, outside, err := unpackIn(t,
			ent{name: "link", typ: tar.TypeSymlink, link: target},
			ent{name: "link/x", body: "evil"},
			ent{name: "link/sub/", typ: tar.TypeDir, mode: 0o755},
		)
		if err != nil && !strings.Contains(err.Error(), "symlink to a directory the layer does not have") {
			t.Fatalf("%s: %v", target, err)
		}
		if ents, _ := os.ReadDir(outside); len(ents) > 0 {
			t.Errorf("symlink to %s: wrote %v outside", target, ents[0].Name())
		}
		if got, _ := os.Readlink(filepath.Join(layer, "link")); got != target {
			t.Errorf("symlink to %s: link is %q", target, got)
		}
	}
}

// Writing a file over a symlink replaces the symlink, never writes
// through it.
func TestUnpackFileReplacesSymlink(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("safe"), 0o644)
	layer, _, err := unpackIn(t, ent{name: "f", typ: tar.TypeSymlink, link: victim}, ent{name: "f", body: "evil"})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "safe" {
		t.Errorf("written through a symlink: %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(layer, "f")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("f is not a regular file: %v %v", fi, err)
	}
}

// A hard link's target is resolved inside the layer: it cannot link a
// file outside (which a container could then change).
func TestUnpackHardlinkCannotLeadOut(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("secret"), 0o600)
	for _, ents := range [][]ent{
		{{name: "h", typ: tar.TypeLink, link: secret}},
		{{name: "h", typ: tar.TypeLink, link: "../../../../../../" + secret}},
		{{name: "d", typ: tar.TypeSymlink, link: dir}, {name: "h", typ: tar.TypeLink, link: "d/secret"}},
	} {
		layer, _, err := unpackIn(t, ents...)
		if err == nil {
			t.Errorf("%v: linked", ents)
		}
		if fi, err := os.Lstat(filepath.Join(layer, "h")); err == nil {
			t.Errorf("%v: h exists: %v", ents, fi.Mode())
		}
		var st unix.Stat_t
		unix.Stat(secret, &st)
		if st.Nlink != 1 {
			t.Errorf("%v: the secret has %d links", ents, st.Nlink)
		}
	}
	// A hard link inside works, and a hard link to a symlink links the
	// symlink itself.
	layer, _, err := unpackIn(t, ent{name: "a", body: "x"}, ent{name: "b", typ: tar.TypeLink, link: "/a"},
		ent{name: "s", typ: tar.TypeSymlink, link: secret}, ent{name: "s2", typ: tar.TypeLink, link: "s"})
	if err != nil {
		t.Fatal(err)
	}
	var a, b unix.Stat_t
	unix.Stat(filepath.Join(layer, "a"), &a)
	unix.Stat(filepath.Join(layer, "b"), &b)
	if a.Ino != b.Ino {
		t.Error("b is not a hard link of a")
	}
	if l, err := os.Readlink(filepath.Join(layer, "s2")); err != nil || l != secret {
		t.Errorf("s2: %q %v", l, err)
	}
}

func TestUnpackWhiteouts(t *testing.T) {
	needRoot(t)
	layer, _, err := unpackIn(t,
		ent{name: "etc/", typ: tar.TypeDir, mode: 0o755},
		ent{name: "etc/.wh.passwd"},
		ent{name: "opq/", typ: tar.TypeDir, mode: 0o755},
		ent{name: "opq/.wh..wh..opq"},
		ent{name: "opq/kept", body: "k"},
		ent{name: ".wh..wh.plnk"},
	)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(layer, "etc/passwd"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("etc/passwd is not a 0:0 whiteout: %+v %v", st, err)
	}
	buf := make([]byte, 8)
	n, err := unix.Lgetxattr(filepath.Join(layer, "opq"), OpaqueXattrRoot, buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Errorf("opq is not opaque: %q %v", buf[:n], err)
	}
	for _, n := range []string{"etc/.wh.passwd", "opq/.wh..wh..opq", ".wh..wh.plnk"} {
		if _, err := os.Lstat(filepath.Join(layer, n)); err == nil {
			t.Errorf("%s was written as a file", n)
		}
	}
}

// Ownership, modes (set-id bits survive chown), xattrs, devices and
// fifos; a layer cannot forge overlayfs's own xattrs.
func TestUnpackAttributes(t *testing.T) {
	needRoot(t)
	layer, _, err := unpackIn(t,
		ent{name: "suid", body: "x", mode: 0o4755, uid: 1000, gid: 1001},
		ent{name: "d/", typ: tar.TypeDir, mode: 0o1777, uid: 7, gid: 8, xattrs: map[string]string{"trusted.overlay.opaque": "y"}},
		ent{name: "cap", body: "x", xattrs: map[string]string{"user.hako": "v"}},
		ent{name: "null", typ: tar.TypeChar, mode: 0o666},
		ent{name: "fifo", typ: tar.TypeFifo, mode: 0o640},
		ent{name: "sl", typ: tar.TypeSymlink, link: "suid", uid: 5, gid: 6},
	)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, mode uint32, uid, gid uint32) {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(layer, name), &st); err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		if mode != 0 && st.Mode != mode || st.Uid != uid || st.Gid != gid {
			t.Errorf("%s: mode %o uid %d gid %d, want %o %d %d", name, st.Mode, st.Uid, st.Gid, mode, uid, gid)
		}
	}
	check("suid", unix.S_IFREG|0o4755, 1000, 1001)
	check("d", unix.S_IFDIR|0o1777, 7, 8)
	check("null", unix.S_IFCHR|0o666, 0, 0)
	check("fifo", unix.S_IFIFO|0o640, 0, 0)
	check("sl", 0, 5, 6)
	buf := make([]byte, 8)
	if n, err := unix.Getxattr(filepath.Join(layer, "cap"), "user.hako", buf); err != nil || string(buf[:n]) != "v" {
		t.Errorf("xattr: %q %v", buf[:n], err)
	}
	if _, err := unix.Getxattr(filepath.Join(layer, "d"), "trusted.overlay.opaque", buf); err == nil {
		t.Error("the layer set trusted.overlay.opaque through a PAX record")
	}
	fi, _ := os.Stat(filepath.Join(layer, "suid"))
	if !fi.ModTime().Equal(time.Unix(1700000000, 0)) {
		t.Errorf("mtime %v", fi.ModTime())
	}
	if fi, _ := os.Stat(filepath.Join(layer, "d")); !fi.ModTime().Equal(time.Unix(1700000000, 0)) {
		t.Errorf("dir mtime %v", fi.ModTime())
	}
}

// Devices are skipped when asked (rootless), fifos are not.
func TestUnpackNoDevices(t *testing.T) {
	dir := t.TempDir()
	_, err := Unpack(dir, bytes.NewReader(mkTar(t, ent{name: "null", typ: tar.TypeChar}, ent{name: "fifo", typ: tar.TypeFifo})),
		UnpackOptions{NoDevices: true, NoOwner: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "null")); err == nil {
		t.Error("made a device")
	}
	if _, err := os.Lstat(filepath.Join(dir, "fifo")); err != nil {
		t.Error(err)
	}
}

// Later entries replace earlier ones: a directory by a file and back.
func TestUnpackReplaces(t *testing.T) {
	needRoot(t)
	layer, _, err := unpackIn(t,
		ent{name: "x/", typ: tar.TypeDir, mode: 0o755}, ent{name: "x/y", body: "1"},
		ent{name: "x", body: "file"},
		ent{name: "z", body: "file"}, ent{name: "z/", typ: tar.TypeDir, mode: 0o700},
	)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(layer, "x")); string(b) != "file" {
		t.Errorf("x: %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(layer, "z")); err != nil || !fi.IsDir() {
		t.Errorf("z: %v %v", fi, err)
	}
}

func TestUnpackCorrupt(t *testing.T) {
	good := mkTar(t, ent{name: "a", body: strings.Repeat("x", 5000)})
	for name, data := range map[string][]byte{
		"garbage":   bytes.Repeat([]byte("not a tar "), 100),
		"truncated": good[:1024],
	} {
		_, err := Unpack(t.TempDir(), bytes.NewReader(data), UnpackOptions{NoOwner: true})
		if !errors.Is(err, ErrBadTar) {
			t.Errorf("%s: %v, want ErrBadTar", name, err)
		}
	}
}

// A sparse file (PAX GNU sparse 1.0, which Go's tar writer will not
// write, so the PAX header block is made here): a 1 TB hole in a 2 KB tar
// is refused, not expanded.
func TestUnpackSparse(t *testing.T) {
	var recs string
	for _, kv := range []string{"GNU.sparse.major=1", "GNU.sparse.minor=0", "GNU.sparse.name=f", "GNU.sparse.realsize=1000000000000"} {
		n := len(kv) + 2
		for len(fmt.Sprintf("%d %s\n", n, kv)) != n {
			n++
		}
		recs += fmt.Sprintf("%d %s\n", n, kv)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "PaxHeaders/f", Typeflag: tar.TypeReg, Size: int64(len(recs)), Mode: 0o644, Format: tar.FormatUSTAR})
	tw.Write([]byte(recs))
	tw.Flush()
	hdr := buf.Bytes()[:512]
	hdr[156] = tar.TypeXHeader
	copy(hdr[148:156], "        ")
	sum := 0
	for _, c := range hdr {
		sum += int(c)
	}
	copy(hdr[148:156], fmt.Sprintf("%06o\x00 ", sum))
	data := append([]byte("1\n0\n0\n"), make([]byte, 506)...)
	tw.WriteHeader(&tar.Header{Name: "GNUSparseFile.0/f", Typeflag: tar.TypeReg, Size: int64(len(data)), Mode: 0o644, Format: tar.FormatUSTAR})
	tw.Write(data)
	tw.Close()
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	if h, err := tr.Next(); err != nil || h.Size != 1000000000000 {
		t.Fatalf("the test tar is not a sparse file to Go: %+v %v", h, err)
	}
	_, err := Unpack(t.TempDir(), bytes.NewReader(buf.Bytes()), UnpackOptions{NoOwner: true})
	if !errors.Is(err, ErrBadTar) || !strings.Contains(err.Error(), "sparse") {
		t.Errorf("sparse file: %v", err)
	}
}

// FuzzUnpack: whatever the tar, nothing appears outside the layer.
func FuzzUnpack(f *testing.F) {
	f.Add(mkTar(f, ent{name: "l", typ: tar.TypeSymlink, link: "../.."}, ent{name: "l/x", body: "e"}))
	f.Add(mkTar(f, ent{name: "../x", body: "e"}, ent{name: "h", typ: tar.TypeLink, link: "../x"}))
	// tmpfs where there is one: file creation and removal on this
	// machine's disk (ext4, online discard) costs ~0.5 ms each.
	base := ""
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		base = "/dev/shm"
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir, err := os.MkdirTemp(base, "hk-fuzz-unpack")
		if err != nil {
			t.Fatal(err)
		}
		defer removeAll(dir)
		layer := filepath.Join(dir, "layer")
		os.Mkdir(layer, 0o755)
		Unpack(layer, io.LimitReader(bytes.NewReader(data), 1<<20), UnpackOptions{NoOwner: true, NoDevices: true})
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Fatalf("%d entries next to the layer", len(ents))
		}
	})
}
