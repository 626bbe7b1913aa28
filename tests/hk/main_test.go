// Package hk tests the front end (internal/hkcli) end to end: the built
// bin/hk (a symlink to bin/hako) driven as a person drives Docker, root
// and rootless, on real images and containers.
//
// Run: go test -count=1 ./tests/hk/ -hako.bin=$PWD/bin/hako
//
// Each test gets its own --root and --runroot (hkEnv), so tests run in
// parallel and never see each other's images or containers; its cleanup
// removes what it made and checks that nothing is left behind.
package hk

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var hakoBin = flag.String("hako.bin", "", "absolute path of the hako binary under test (the suite skips without it)")

var skipReason string

func TestMain(m *testing.M) {
	flag.Parse()
	switch {
	case *hakoBin == "":
		skipReason = "no -hako.bin given (make build; go test ./tests/hk/ -hako.bin=$PWD/bin/hako)"
	case !filepath.IsAbs(*hakoBin):
		skipReason = fmt.Sprintf("-hako.bin %q must be an absolute path", *hakoBin)
	}
	if skipReason != "" {
		fmt.Println("hk: skipping all:", skipReason)
	}
	os.Exit(m.Run())
}

// hkBin is the front end's path: bin/hk next to -hako.bin.
func hkBin() string { return filepath.Join(filepath.Dir(*hakoBin), "hk") }

// uniq is a name no other test (or other user of this machine) has.
func uniq(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

type result struct {
	out, err string
	code     int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
}

// hkEnv is hk with a private storage root and run root.
type hkEnv struct {
	t             *testing.T
	root, runroot string
	env           []string // added to the environment
	prefix        []string // run as: prefix... hk (setpriv for rootless)
}

// newHK gives the test its own hk: fresh roots, removed at the end (after
// the test's own cleanups, which run first, in reverse order).
func newHK(t *testing.T) *hkEnv {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	dir := t.TempDir()
	h := &hkEnv{t: t, root: filepath.Join(dir, "root"), runroot: filepath.Join(dir, "run")}
	if os.Geteuid() == 0 {
		// The default network (made by the first container on it, as
		// root) and its bridge go when the test's containers are gone.
		t.Cleanup(func() {
			if _, err := os.Stat(filepath.Join(h.root, "networks")); err == nil {
				h.run("network", "prune")
			}
		})
	}
	return h
}

// run runs `hk --root R --runroot RR args...` with a 60 s limit and stdin
// from stdin (nil: empty). Output goes to files, not pipes: a container
// that inherits a pipe would keep Wait from returning.
func (h *hkEnv) run(args ...string) result { return h.runIn(nil, args...) }

func (h *hkEnv) runIn(stdin []byte, args ...string) result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	argv := append(append(append([]string{}, h.prefix...), hkBin(), "--root", h.root, "--runroot", h.runroot), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), h.env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, errf := tempFile(h.t), tempFile(h.t)
	cmd.Stdout, cmd.Stderr = out, errf
	err := cmd.Run()
	r := result{out: readFile(out.Name()), err: readFile(errf.Name()), code: cmd.ProcessState.ExitCode()}
	if err != nil && r.code == 0 {
		r.code = -1
		r.err += err.Error()
	}
	h.t.Logf("hk %s -> %d", strings.Join(args, " "), r.code)
	return r
}

// ok is run that fails the test unless hk exits 0.
func (h *hkEnv) ok(args ...string) result {
	h.t.Helper()
	r := h.run(args...)
	if r.code != 0 {
		h.t.Fatalf("hk %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// fails is run that fails the test unless hk exits non-zero with every
// one of want in its stderr.
func (h *hkEnv) fails(want []string, args ...string) result {
	h.t.Helper()
	r := h.run(args...)
	if r.code == 0 {
		h.t.Fatalf("hk %s: want a failure: %s", strings.Join(args, " "), r)
	}
	for _, w := range want {
		if !strings.Contains(r.err, w) {
			h.t.Errorf("hk %s: stderr lacks %q: %s", strings.Join(args, " "), w, r)
		}
	}
	return r
}

func tempFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readFile(name string) string {
	b, _ := os.ReadFile(name)
	return string(b)
}
