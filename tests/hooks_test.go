package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// logHook appends "NAME <state JSON from stdin>" to LOG, after sleeping
// DELAY seconds if given. Hooks run with an empty environment: no PATH.
const logHook = `#!/bin/sh
[ -n "$3" ] && /bin/sleep "$3"
line="$1 $(/bin/cat)"
echo "$line" >> "$2"
`

const failHook = "#!/bin/sh\necho hook-failed-on-purpose\nexit 1\n"

func writeScript(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// withHooks sets hooks by their config.json names (through JSON, so
// deprecated fields such as prestart need no deprecated identifier).
func withHooks(t *testing.T, hs map[string][]specs.Hook) func(*specs.Spec) {
	return func(s *specs.Spec) {
		b, _ := json.Marshal(hs)
		s.Hooks = &specs.Hooks{}
		if err := json.Unmarshal(b, s.Hooks); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHooks runs one hook of each kind and checks their order and the state
// each got. createContainer runs in the container's mount namespace before
// pivot_root (host paths visible); startContainer after it, so its script
// and log are inside the container.
func TestHooks(t *testing.T) {
	t.Parallel()
	c := newCtr(t)
	logDir := t.TempDir()
	host := writeScript(t, filepath.Join(c.dir, "hook.sh"), logHook)
	writeScript(t, filepath.Join(c.bundle, "rootfs", "hook.sh"), logHook)
	log := filepath.Join(logDir, "log")
	hook := func(name string) []specs.Hook {
		return []specs.Hook{{Path: host, Args: []string{"hook.sh", name, log}}}
	}
	// startContainer sleeps first: poststart must still come after it, as
	// the runtime-spec runs poststart once the user program has started.
	c.edit(withSh("true"),
		withMount(specs.Mount{Destination: "/hooklog", Type: "bind", Source: logDir, Options: []string{"bind", "rw"}}),
		withHooks(t, map[string][]specs.Hook{
			"prestart": hook("prestart"), "createRuntime": hook("createRuntime"), "createContainer": hook("createContainer"),
			"startContainer": {{Path: "/hook.sh", Args: []string{"hook.sh", "startContainer", "/hooklog/log", "0.3"}}},
			"poststart":      hook("poststart"), "poststop": hook("poststop"),
		}))
	c.ok(c.withID("create", nil)...)
	st, _ := c.state()
	c.ok("start", c.id)
	c.waitStatus(specs.StateStopped)
	c.ok("delete", c.id)

	b, _ := os.ReadFile(log)
	var order []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		name, js, _ := strings.Cut(l, " ")
		order = append(order, name)
		var hs specs.State
		if err := json.Unmarshal([]byte(js), &hs); err != nil {
			t.Errorf("%s hook got no state JSON on stdin: %q", name, js)
			continue
		}
		if hs.ID != c.id || hs.Bundle != c.bundle || (name != "poststop" && hs.Pid != st.Pid) {
			t.Errorf("%s hook state %+v, want id %s bundle %s pid %d", name, hs, c.id, c.bundle, st.Pid)
		}
	}
	want := "prestart createRuntime createContainer startContainer poststart poststop"
	if strings.Join(order, " ") != want {
		t.Errorf("hooks ran in order %v, want %s", order, want)
	}
}

// TestHookFailures: a failing (or timed-out) hook before the program starts
// aborts create and leaves nothing; poststart and poststop only warn.
func TestHookFailures(t *testing.T) {
	for _, tc := range []struct {
		kind    string
		timeout int // 0: the hook fails; else it sleeps past this timeout
		abort   bool
	}{
		{"prestart", 0, true},
		{"createRuntime", 0, true},
		{"createContainer", 0, true},
		{"prestart", 1, true},
		{"createContainer", 1, true}, // killed by init at its timeout
		{"poststart", 0, false},
		{"poststop", 0, false},
	} {
		name := tc.kind
		if tc.timeout > 0 {
			name += " timeout"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, withSh(waiter))
			h := specs.Hook{Path: writeScript(t, filepath.Join(c.dir, "fail.sh"), failHook)}
			if tc.timeout > 0 {
				h = specs.Hook{Path: "/bin/sleep", Args: []string{"sleep", "10"}, Timeout: &tc.timeout}
			}
			c.edit(withHooks(t, map[string][]specs.Hook{tc.kind: {h}}))
			began := time.Now()
			r := c.hako(c.withID("create", nil)...)
			if took := time.Since(began); took > 5*time.Second {
				t.Errorf("create took %v", took)
			}
			if tc.abort {
				if r.code == 0 || !strings.Contains(r.err, tc.kind) {
					t.Errorf("create with a failing %s hook: %s", name, r)
				}
				if tc.timeout > 0 && !strings.Contains(r.err, "time") {
					t.Errorf("error does not say the hook timed out: %s", r.err)
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("create: %s", r)
			}
			r = c.ok("start", c.id)
			if st, _ := c.state(); st.Status != specs.StateRunning {
				t.Errorf("after start: %+v", st)
			}
			r2 := c.ok("delete", "--force", c.id)
			if got := r.err + r2.err; !strings.Contains(got, tc.kind) || !strings.Contains(got, "hook-failed-on-purpose") {
				t.Errorf("no warning naming the failed %s hook: %q", tc.kind, got)
			}
		})
	}
}
