package rawfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 4095, 4096, 4097, 100000} {
		p := filepath.Join(dir, "f")
		want := bytes.Repeat([]byte("x"), n)
		if err := os.WriteFile(p, want, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("size %d: got %d bytes, %v", n, len(got), err)
		}
		if got, err := ReadFileLimit(p, 4096); err != nil || len(got) != min(n, 4096) {
			t.Errorf("size %d, limit 4096: got %d bytes, %v", n, len(got), err)
		}
	}
	// proc files report size 0 and must still be read whole.
	if b, err := ReadFile("/proc/self/mountinfo"); err != nil || len(b) == 0 {
		t.Errorf("/proc/self/mountinfo: %d bytes, %v", len(b), err)
	}
	_, err := ReadFile(filepath.Join(dir, "missing"))
	var pe *os.PathError
	if !errors.As(err, &pe) || !errors.Is(err, os.ErrNotExist) || err.Error() != "open "+filepath.Join(dir, "missing")+": no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
}
