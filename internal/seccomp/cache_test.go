//go:build amd64

package seccomp

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func samePrograms(t *testing.T, got, want *Program) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestCacheRoundTrip(t *testing.T) {
	s := dockerProfile(t)
	s.Syscalls = append(s.Syscalls, sc(specs.ActAllow, "no_such_call")) // a warning to keep
	want := mustCompile(t, s)
	dir := filepath.Join(t.TempDir(), "cache")
	for range 2 { // a miss, then a hit
		p, err := CompileCached(s, dir)
		if err != nil {
			t.Fatal(err)
		}
		samePrograms(t, p, want)
	}
	st, err := os.Stat(filepath.Join(dir, want.Hash()+".bpf"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cache file: %v, %v", st, err)
	}
}

// TestCacheDistrust: a cache file that is damaged, for another profile,
// writable by others or a symlink is not used; the profile is compiled
// again and the file replaced.
func TestCacheDistrust(t *testing.T) {
	s := dockerProfile(t)
	want := mustCompile(t, s)
	other := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow})
	dir := t.TempDir()
	path := filepath.Join(dir, want.Hash()+".bpf")
	target := filepath.Join(dir, "target")
	tests := []struct {
		name  string
		setup func() error
	}{
		{"flipped byte", func() error {
			b := encodeProgram(want)
			b[len(b)/2] ^= 1
			return os.WriteFile(path, b, 0o600)
		}},
		{"truncated", func() error { return os.WriteFile(path, encodeProgram(want)[:100], 0o600) }},
		{"another profile's program", func() error { return os.WriteFile(path, encodeProgram(other), 0o600) }},
		{"world-writable", func() error {
			if err := os.WriteFile(path, encodeProgram(other), 0o600); err != nil {
				return err
			}
			return os.Chmod(path, 0o666)
		}},
		{"symlink", func() error {
			if err := os.WriteFile(target, encodeProgram(want), 0o600); err != nil {
				return err
			}
			return os.Symlink(target, path)
		}},
	}
	for _, tt := range tests {
		os.Remove(path)
		if err := tt.setup(); err != nil {
			t.Fatal(err)
		}
		p, err := CompileCached(s, dir)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		samePrograms(t, p, want)
		if _, err := readCache(path, want.Hash()); err != nil {
			t.Errorf("%s: cache not repaired: %v", tt.name, err)
		}
	}
}

func TestCacheUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := CompileCached(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow}, filepath.Join(file, "cache"))
	if err != nil || len(p.Warnings) != 1 || !strings.HasPrefix(p.Warnings[0], "seccomp cache: ") {
		t.Fatalf("got %v, %v: want a program and a warning", p, err)
	}
}

func TestDecodeShort(t *testing.T) {
	p := mustCompile(t, dockerProfile(t))
	b := encodeProgram(p)
	for n := range len(b) {
		if _, err := decodeProgram(b[:n], p.Hash()); err == nil {
			t.Fatalf("%d of %d bytes decoded", n, len(b))
		}
	}
}
