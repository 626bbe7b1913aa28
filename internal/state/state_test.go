package state

import (
	"errors"
	"os"
	"testing"
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
