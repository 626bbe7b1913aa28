package box

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestStore(t *testing.T) {
	s, err := NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if l, err := s.List(); err != nil || len(l) != 0 {
		t.Fatalf("empty store: %v %v", l, err)
	}
	a := &Container{ID: "aaaa" + NewID()[4:], Name: "web", Created: time.Now()}
	b := &Container{ID: "aaab" + NewID()[4:], Created: time.Now().Add(time.Second)}
	if err := s.Add(a); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(b); err != nil || b.Name == "" {
		t.Fatalf("generated name %q: %v", b.Name, err)
	}
	if err := s.Add(&Container{ID: NewID(), Name: "web"}); !errors.Is(err, ErrNameInUse) {
		t.Errorf("second web: %v", err)
	}
	for ref, want := range map[string]string{"web": a.ID, "/web": a.ID, a.ID: a.ID, "aaab": b.ID, b.Name: b.ID} {
		if c, err := s.Get(ref); err != nil || c.ID != want {
			t.Errorf("Get(%q) = %v, %v", ref, c, err)
		}
	}
	if _, err := s.Get("aaa"); err == nil {
		t.Error("ambiguous prefix accepted")
	}
	if _, err := s.Get("zzz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(zzz): %v", err)
	}
	if _, err := s.Update("web", func(c *Container) error { c.State = Exited; c.ExitCode = 3; return nil }); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Get("web"); c.ExitCode != 3 {
		t.Errorf("update lost: %+v", c)
	}
	if l, _ := s.List(); len(l) != 2 || l[0].ID != b.ID {
		t.Errorf("List not newest first: %v", l)
	}
	if err := s.Remove("web"); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(&Container{ID: NewID(), Name: "web"}); err != nil {
		t.Errorf("name not freed by Remove: %v", err)
	}
}

// 20 writers at once (20 `hk run`s): every record lands.
func TestStoreConcurrent(t *testing.T) {
	s, _ := NewStore(t.TempDir())
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Add(&Container{ID: NewID(), Name: fmt.Sprint("c", i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if l, _ := s.List(); len(l) != 20 {
		t.Errorf("%d records, want 20", len(l))
	}
}

func TestApplyLayer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("whiteouts are device nodes: needs root")
	}
	dir := t.TempDir()
	l1, l2, dst := filepath.Join(dir, "l1"), filepath.Join(dir, "l2"), filepath.Join(dir, "dst")
	for _, d := range []string{l1 + "/etc", l1 + "/opq/old", l2 + "/etc", l2 + "/opq", dst} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(l1+"/etc/gone", []byte("x"), 0o644)
	os.WriteFile(l1+"/etc/kept", []byte("1"), 0o644)
	os.WriteFile(l1+"/opq/old/f", []byte("x"), 0o644)
	os.Symlink("/etc", l1+"/lnk")
	os.WriteFile(l2+"/etc/kept", []byte("2"), 0o600)
	os.Link(l2+"/etc/kept", l2+"/etc/hard")
	unix.Mknod(l2+"/etc/gone", unix.S_IFCHR, 0)
	unix.Setxattr(l2+"/opq", "trusted.overlay.opaque", []byte("y"), 0)
	os.WriteFile(l2+"/opq/new", []byte("n"), 0o644)
	os.MkdirAll(l2+"/lnk", 0o755) // a dir replaces the lower symlink
	os.WriteFile(l2+"/lnk/f", []byte("in"), 0o644)
	for _, l := range []string{l1, l2} {
		if err := applyLayer(l, dst); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(dst + "/etc/kept"); string(b) != "2" {
		t.Errorf("kept = %q", b)
	}
	var a, b unix.Stat_t
	unix.Stat(dst+"/etc/kept", &a)
	unix.Stat(dst+"/etc/hard", &b)
	if a.Ino != b.Ino || a.Mode&0o777 != 0o600 {
		t.Errorf("hard link or mode lost: %d %d %o", a.Ino, b.Ino, a.Mode)
	}
	for _, gone := range []string{"/etc/gone", "/opq/old"} {
		if _, err := os.Lstat(dst + gone); !os.IsNotExist(err) {
			t.Errorf("%s still there: %v", gone, err)
		}
	}
	if fi, err := os.Lstat(dst + "/lnk"); err != nil || !fi.IsDir() {
		t.Errorf("lnk: %v %v", fi, err)
	}
	if _, err := os.Stat("/etc/f"); err == nil {
		t.Error("wrote through the lower symlink")
	}
}
