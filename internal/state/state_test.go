package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseStartTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 42 1000 10", 42, true},
		{"7 (a b) c)) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0", 99, true},
		{"garbage", 0, false},
		{"1 (x) S 1 2", 0, false},
	} {
		got, err := parseStartTime(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseStartTime(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestCreateDuplicateSaveLoad(t *testing.T) {
	root := t.TempDir()
	d, err := Create(root, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(root, "c1"); !errors.Is(err, ErrExist) {
		t.Fatalf("duplicate create: got %v, want ErrExist", err)
	}
	if s, err := d.Load(); s != nil || err != nil {
		t.Fatalf("load before save = %v, %v", s, err)
	}
	st, _ := StartTime(os.Getpid())
	want := &State{ID: "c1", Pid: os.Getpid(), PidStart: st, Bundle: "/b"}
	if err := d.Save(want); err != nil {
		t.Fatal(err)
	}
	got, err := d.Load()
	if err != nil || got.ID != "c1" || got.Bundle != "/b" {
		t.Fatalf("load = %+v, %v", got, err)
	}
	if !got.Alive() {
		t.Fatal("own process not alive")
	}
	got.PidStart++
	if got.Alive() {
		t.Fatal("wrong start time must read as dead (recycled pid)")
	}
	if err := d.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(root, "c1"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("open removed: %v", err)
	}
}

// TestEncodeMatchesJSON: the hand-written encoder gives what encoding/json
// gives for the same fields (compared as decoded values), for strings with
// quotes, control characters, invalid UTF-8 and line separators.
func TestEncodeMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "\"", "\\", "\n", "\x00", "\x1f", "\x7f", "é", "\xff", "\u2028", "<", "&", "/", " "}
	str := func() string {
		var b strings.Builder
		for n := r.IntN(12); n > 0; n-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for i := 0; i < 500; i++ {
		s := &State{ID: str(), Pid: r.IntN(1 << 22), PidStart: r.Uint64(), Bundle: str(), Rootfs: str(),
			Created: time.Unix(r.Int64N(1<<33), r.Int64N(1e9)).UTC(), Owner: str(), Creating: i%2 == 0,
			SpecJSON: []byte(" {\"ociVersion\": \"1.0.2\", \"hostname\": " + strconv.Quote("h") + "}\n")}
		if i%3 == 0 {
			s.Annotations = map[string]string{str(): str(), str(): str()}
			s.Cgroups = map[string]string{"memory": str()}
		}
		got, err := encode(s)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(got) {
			t.Fatalf("invalid JSON: %q", got)
		}
		want, err := json.Marshal(stateFile{ID: s.ID, Pid: s.Pid, PidStart: s.PidStart, Bundle: s.Bundle, Rootfs: s.Rootfs,
			Created: s.Created, Owner: s.Owner, Annotations: s.Annotations, Cgroups: s.Cgroups,
			Spec: bytes.TrimSpace(s.SpecJSON)})
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("encode:\n%s\nencoding/json:\n%s", got, want)
		}
	}
}

// TestCreatingMarker: a create in progress is the state directory's sticky
// bit, not a field rewritten in state.json; old state files with the field
// still read so.
func TestCreatingMarker(t *testing.T) {
	root := t.TempDir()
	d, err := Create(root, "c1")
	if err != nil {
		t.Fatal(err)
	}
	s := &State{ID: "c1", Pid: 1, Creating: true, SpecJSON: []byte(`{"ociVersion":"1.0.2"}`)}
	if err := d.Save(s); err != nil {
		t.Fatal(err)
	}
	if got, err := d.Load(); err != nil || !got.Creating {
		t.Fatalf("while creating: %+v, %v", got, err)
	}
	if err := d.DoneCreating(); err != nil {
		t.Fatal(err)
	}
	if got, err := d.Load(); err != nil || got.Creating {
		t.Fatalf("done: %+v, %v", got, err)
	}
	if fi, err := os.Stat(d.Path); err != nil || fi.Mode().Perm() != 0o711 || fi.Mode()&os.ModeSticky != 0 {
		t.Errorf("state dir mode after create: %v, %v", fi.Mode(), err)
	}
	old := `{"id":"c1","pid":1,"pidStart":0,"bundle":"","rootfs":"","created":"2026-01-01T00:00:00Z","owner":"0","spec":{"ociVersion":"1.0.2"},"creating":true}`
	if err := os.WriteFile(d.Path+"/state.json", []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := d.Load(); err != nil || !got.Creating {
		t.Fatalf("old state.json with creating: %+v, %v", got, err)
	}
	if err := d.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.Path); !os.IsNotExist(err) {
		t.Errorf("state dir left: %v", err)
	}
	if _, err := Create(filepath.Join(root, "new", "root"), "c2"); err != nil {
		t.Errorf("create under a missing root: %v", err)
	}
}

// TestExitStatus: a real zombie's status (exit 3, then SIGKILL), before
// its parent reaps it; nothing for a live process.
func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		args         []string
		code         int
		signal       syscall.Signal
		signaledByUs bool
	}{
		{[]string{"sh", "-c", "exit 3"}, 3, 0, false},
		{[]string{"sleep", "60"}, 0, syscall.SIGKILL, true},
	} {
		cmd := exec.Command(tc.args[0], tc.args[1:]...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid := cmd.Process.Pid
		start, err := StartTime(pid)
		if err != nil {
			t.Fatal(err)
		}
		s := &State{Pid: pid, PidStart: start}
		if tc.signaledByUs {
			if _, ok := s.ExitStatus(); ok {
				t.Errorf("%v: a status while it runs", tc.args)
			}
			cmd.Process.Kill()
		}
		var ws syscall.WaitStatus
		var ok bool
		for i := 0; i < 200 && !ok; i++ {
			time.Sleep(10 * time.Millisecond)
			w, k := s.ExitStatus()
			ws, ok = syscall.WaitStatus(w), k
		}
		cmd.Wait()
		if !ok || ws.ExitStatus() != tc.code && !ws.Signaled() || ws.Signaled() && ws.Signal() != tc.signal {
			t.Errorf("%v: status %#x ok=%v; want exit %d / signal %v", tc.args, uint32(ws), ok, tc.code, tc.signal)
		}
		if _, ok := s.ExitStatus(); ok {
			t.Errorf("%v: a status after it was reaped", tc.args)
		}
	}
}
