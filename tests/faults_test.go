package tests

// Faults: hako commands killed with SIGKILL part-way, concurrent creates,
// malformed input. Whatever happens, `delete --force` must leave nothing
// (the ctr cleanup checks state dir, processes, mounts and cgroups).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// blockingHook blocks until the hako process that runs it dies, after
// touching marker; once marker exists it returns at once (so the same hook
// run again by `delete --force` does not block). Hooks get an empty
// environment: absolute paths only.
func blockingHook(marker string) string {
	return "#!/bin/sh\n[ -e " + marker + " ] && exit 0\n/bin/touch " + marker +
		"\nwhile kill -0 $PPID 2>/dev/null; do /bin/sleep 0.02; done\n"
}

func waitFile(t *testing.T, path string, p *proc) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			p.cmd.Process.Kill()
			t.Fatalf("the hook never ran: %s", p.wait())
		}
	}
}

// TestKilledMidway: create, start and delete killed with SIGKILL while a
// hook holds them at a given step; `delete --force` then removes the
// container completely.
func TestKilledMidway(t *testing.T) {
	for _, tc := range []struct {
		verb, hook string
		before     []string // verbs run first, to completion
		inside     bool     // the hook runs inside the container (after pivot_root)
	}{
		{"create", "prestart", nil, false},
		{"create", "createContainer", nil, false}, // in init, before pivot_root
		{"start", "startContainer", []string{"create"}, true},
		{"start", "poststart", []string{"create"}, false},
		{"delete", "poststop", []string{"create", "start", "kill"}, false},
		{"delete --force", "poststop", []string{"create", "start"}, false},
	} {
		t.Run(tc.verb+" in "+tc.hook, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, withSh(waiter))
			logDir := filepath.Join(c.dir, "hooklog")
			os.Mkdir(logDir, 0o777)
			marker, path := filepath.Join(logDir, "started"), filepath.Join(c.dir, "hook.sh")
			if tc.inside {
				path = "/hook.sh"
				writeScript(t, filepath.Join(c.bundle, "rootfs", "hook.sh"), blockingHook("/hooklog/started"))
				c.edit(withMount(specs.Mount{Destination: "/hooklog", Type: "bind", Source: logDir, Options: []string{"bind", "rw"}}))
			} else {
				writeScript(t, path, blockingHook(marker))
			}
			c.edit(withHooks(t, map[string][]specs.Hook{tc.hook: {{Path: path}}}))
			for _, v := range tc.before {
				args := map[string][]string{"create": c.withID("create", nil), "start": {"start", c.id},
					"kill": {"kill", c.id, "KILL"}}[v]
				c.ok(args...)
				if v == "kill" {
					c.waitStatus(specs.StateStopped)
				}
			}
			if st, _ := c.state(); st.Pid > 0 {
				c.seen(st.Pid)
			}
			args := map[string][]string{"create": c.withID("create", nil), "start": {"start", c.id},
				"delete": {"delete", c.id}, "delete --force": {"delete", "--force", c.id}}[tc.verb]
			p := c.start(nil, args...)
			waitFile(t, marker, p)
			if st, _ := c.state(); st.Pid > 0 {
				c.seen(st.Pid)
			}
			p.cmd.Process.Kill()
			if r := p.wait(); r.code != -1 {
				t.Fatalf("hako %s was not killed in the %s hook: %s", tc.verb, tc.hook, r)
			}
			c.ok("delete", "--force", c.id)
			if _, r := c.state(); r.code == 0 {
				t.Errorf("state after delete --force: %s", r)
			}
		})
	}
}

// TestConcurrentCreateSameID: two creates of one ID race; exactly one wins,
// the other says the container already exists, and the winner is whole:
// its state is its own and it runs.
func TestConcurrentCreateSameID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for round := 0; round < 3; round++ {
		a := e.ctr(withSh("echo ran-a"))
		b := e.ctr(withSh("echo ran-b"))
		b.id = a.id
		pa, pb := a.start(nil, a.withID("create", nil)...), b.start(nil, b.withID("create", nil)...)
		ra, rb := pa.wait(), pb.wait()
		win, lose, rl, wp, want := a, b, rb, pa, "ran-a\n"
		if ra.code != 0 {
			win, lose, rl, wp, want = b, a, ra, pb, "ran-b\n"
		}
		if (ra.code == 0) == (rb.code == 0) {
			t.Fatalf("round %d: want exactly one create to succeed:\nA %s\nB %s", round, ra, rb)
		}
		if !strings.Contains(rl.err, "already exists") || strings.Count(rl.err, "\n") > 1 {
			t.Errorf("round %d: the losing create's error is not one clear line saying the container exists: %s", round, rl)
		}
		st, r := win.state()
		if st.Status != specs.StateCreated || st.Bundle != win.bundle || st.Pid <= 0 {
			t.Errorf("round %d: winner after the race: %s (bundle should be %s)", round, r, win.bundle)
		}
		win.ok("start", win.id)
		win.waitStatus(specs.StateStopped)
		if r := readAll(wp.stdout); r != want {
			t.Errorf("round %d: the winner printed %q, want %q", round, r, want)
		}
		win.ok("delete", win.id)
		checkGone(t, e.root, lose.id, lose.bundle, nil)
	}
}

// TestConcurrentCreates creates 100 containers of distinct IDs at once
// (from one shared rootfs; a bundle each) and deletes them at once; all
// must succeed and nothing may be left.
func TestConcurrentCreates(t *testing.T) {
	t.Parallel()
	const n = 100
	e := newEnv(t)
	rootfs := filepath.Join(e.dir, "rootfs")
	if err := copyTree(filepath.Join(templateDir, "rootfs"), rootfs); err != nil {
		t.Fatal(err)
	}
	os.Chmod(e.dir, 0o755)
	ids, bundles := make([]string, n), make([]string, n)
	for i := range ids {
		ids[i], bundles[i] = fmt.Sprintf("%s-%03d", newID(t), i), filepath.Join(e.dir, fmt.Sprintf("bundle%03d", i))
		c := &ctr{env: e, id: ids[i], bundle: bundles[i], spec: &specs.Spec{}}
		if err := os.Mkdir(c.bundle, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(templateSpec, c.spec); err != nil {
			t.Fatal(err)
		}
		c.edit(withSh("true"), func(s *specs.Spec) { s.Process.Terminal, s.Root.Path = false, rootfs })
	}
	all := func(verb func(i int) []string) (res []result, took time.Duration) {
		res = make([]result, n)
		began := time.Now()
		procs := make([]*proc, n)
		for i := range procs { // all started before any is waited for
			procs[i] = e.start(nil, verb(i)...)
		}
		for i, p := range procs {
			res[i] = p.wait()
		}
		return res, time.Since(began)
	}
	deleteAll := func(i int) []string { return []string{"delete", "--force", ids[i]} }
	t.Cleanup(func() {
		all(deleteAll)
		for i, id := range ids {
			checkGone(t, e.root, id, bundles[i], nil)
		}
		for _, p := range leftoverProcs(ids[0], rootfs, nil) { // by root and cwd in the shared rootfs
			t.Errorf("leftover: process %s", p)
		}
	})
	res, took := all(func(i int) []string { return []string{"create", "--bundle", bundles[i], ids[i]} })
	failed := 0
	for i, r := range res {
		if r.code != 0 {
			if failed++; failed <= 3 {
				t.Errorf("create %d of %d: %s", i, n, r)
			}
		}
	}
	t.Logf("%d concurrent creates took %v (%d failed)", n, took.Round(time.Millisecond), failed)
	if got := strings.Fields(e.ok("list", "-q").out); len(got) != n-failed {
		t.Errorf("list shows %d containers, want %d", len(got), n-failed)
	}
	res, took = all(deleteAll)
	for i, r := range res {
		if r.code != 0 {
			t.Errorf("delete --force %s: %s", ids[i], r)
		}
	}
	t.Logf("%d concurrent deletes took %v", n, took.Round(time.Millisecond))
}

// TestMalformedConfig: a config.json that is not one gets a clear error
// naming the problem and leaves nothing on disk (IDs: TestBadIDs).
func TestMalformedConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.ctr()
	cfg := filepath.Join(c.bundle, "config.json")
	for _, tc := range []struct{ name, text, want string }{
		{"empty", "", "config.json"},
		{"not JSON", "{\"ociVersion\": ", "config.json"},
		{"garbage", "\x00\xff\xfe garbage", "config.json"},
		{"wrong type", `{"ociVersion": 1}`, "ociVersion"},
		{"no process", `{"ociVersion": "1.0.2", "root": {"path": "rootfs"}}`, "process"},
		{"root outside", `{"ociVersion": "1.0.2", "root": {"path": "/nonexistent-root"}, "process": {"args": ["sh"], "cwd": "/"}}`, "root"},
	} {
		if err := os.WriteFile(cfg, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, verb := range []string{"create", "run"} {
			r := e.hako(verb, "--bundle", c.bundle, c.id)
			if r.code == 0 || !strings.Contains(r.err, tc.want) {
				t.Errorf("%s %s: want a refusal naming %q: %s", verb, tc.name, tc.want, r)
			}
		}
	}
	if ents, _ := os.ReadDir(e.root); len(ents) != 0 {
		t.Errorf("malformed configs left %v in the state root", ents)
	}
	// IDs that are paths must not reach outside the state root in the
	// other verbs either.
	canary := filepath.Join(filepath.Dir(e.root), "canary")
	if err := os.WriteFile(canary, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"..", "../canary", "/", "."} {
		for _, args := range [][]string{{"delete", "--force", id}, {"state", id}, {"kill", id, "KILL"}, {"start", id}} {
			if r := e.hako(args...); r.code == 0 {
				t.Errorf("hako %s succeeded", strings.Join(args, " "))
			}
		}
	}
	if _, err := os.Stat(canary); err != nil {
		t.Errorf("a path-like ID reached outside the state root: %v", err)
	}
}
