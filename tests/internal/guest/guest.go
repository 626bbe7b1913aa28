package guest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Marker is written into the VM's image by scripts/sysvm/customize.sh: a
// suite that does not find it is not in the VM and skips everything.
const Marker = "/etc/hako-sysvm"

// InVM reports whether this process runs in the systemd test VM.
func InVM() bool {
	_, err := os.Stat(Marker)
	return err == nil
}

// Result is a finished command.
type Result struct {
	Args           []string
	Stdout, Stderr string
	Code           int // the exit status; -1 if it did not run or was killed
	Err            error
}

func (r Result) String() string {
	return fmt.Sprintf("%s: exit %d (%v)\nstdout:\n%s\nstderr:\n%s", strings.Join(r.Args, " "), r.Code, r.Err, r.Stdout, r.Stderr)
}

// CmdTimeout bounds every command; the whole run is bounded by the host.
const CmdTimeout = 3 * time.Minute

// Try runs args and returns what happened; it never fails the test.
// Output goes through files, not pipes: a command that leaves a process
// behind holding its stdout (hako run -d, a daemon) must not hang it.
func Try(args ...string) Result {
	r := Result{Args: args, Code: -1}
	dir, err := os.MkdirTemp("", "cmd-")
	if err != nil {
		r.Err = err
		return r
	}
	defer os.RemoveAll(dir)
	out, _ := os.Create(filepath.Join(dir, "stdout"))
	errf, _ := os.Create(filepath.Join(dir, "stderr"))
	defer out.Close()
	defer errf.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = out, errf
	if err := cmd.Start(); err != nil {
		r.Err = err
		return r
	}
	timer := time.AfterFunc(CmdTimeout, func() { cmd.Process.Kill() })
	r.Err = cmd.Wait()
	timer.Stop()
	r.Code = cmd.ProcessState.ExitCode()
	stdout, _ := os.ReadFile(out.Name())
	stderr, _ := os.ReadFile(errf.Name())
	r.Stdout, r.Stderr = string(stdout), string(stderr)
	return r
}

// Run runs args, fails the test unless it exits 0, and returns its stdout
// with surrounding space trimmed.
func Run(t testing.TB, args ...string) string {
	t.Helper()
	r := Try(args...)
	if r.Code != 0 {
		t.Fatal(r)
	}
	return strings.TrimSpace(r.Stdout)
}

// Sh runs a shell script as root with Run.
func Sh(t testing.TB, script string) string {
	t.Helper()
	return Run(t, "/bin/sh", "-c", script)
}

// WaitFor polls cond every 100 ms until it holds or timeout passes.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(timeout); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// NewID is a name unique to the run: prefix, a dash and 8 hex digits.
func NewID(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// ReadFile returns a file's content with surrounding space trimmed, or
// fails the test.
func ReadFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// UnitProps returns the named properties of a systemd unit (systemctl show).
func UnitProps(t testing.TB, unit string, names ...string) map[string]string {
	t.Helper()
	args := []string{"systemctl", "show", unit}
	for _, n := range names {
		args = append(args, "-p", n)
	}
	out := map[string]string{}
	for _, l := range strings.Split(Run(t, args...), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			out[k] = v
		}
	}
	return out
}

// UnitGone checks that systemd keeps nothing of unit (not even a failed
// or inactive unit) and its cgroup directory is gone.
func UnitGone(t testing.TB, unit, dir string) {
	t.Helper()
	WaitFor(t, unit+" to be unloaded", 10*time.Second, func() bool {
		return UnitProps(t, unit, "LoadState")["LoadState"] == "not-found"
	})
	if out := Run(t, "systemctl", "list-units", "--all", "--plain", "--no-legend", unit); out != "" {
		t.Errorf("systemctl list-units --all still shows: %s", out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cgroup %s is still there (%v)", dir, err)
	}
}

// TTYRun runs args on a pseudo-terminal (script(1)), as `-it` needs.
func TTYRun(args ...string) Result {
	return Try("script", "-qec", strings.Join(args, " "), "/dev/null")
}
