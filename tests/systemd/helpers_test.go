package systemd

// Helpers for every test of the package: commands as root or as hakouser,
// the busybox image in each engine, hako bundles. Each returns what it made
// and registers its own cleanup with t.Cleanup.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/tests/internal/busyboximage"
)

// The unprivileged user of the VM: lingering, so its systemd instance
// (user@1500.service) and its session bus run from boot.
const (
	user    = "hakouser"
	userUID = 1500
	userBus = "/run/user/1500/bus"
)

// result is a finished command.
type result struct {
	args           []string
	stdout, stderr string
	code           int // the exit status; -1 if it did not run or was killed
	err            error
}

func (r result) String() string {
	return fmt.Sprintf("%s: exit %d (%v)\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.err, r.stdout, r.stderr)
}

// cmdTimeout bounds every command; the whole run is bounded by the host.
const cmdTimeout = 3 * time.Minute

// try runs args and returns what happened; it never fails the test.
// Output goes through files, not pipes: a command that leaves a process
// behind holding its stdout (hako run -d, a daemon) must not hang it.
func try(args ...string) result {
	r := result{args: args, code: -1}
	dir, err := os.MkdirTemp("", "cmd-")
	if err != nil {
		r.err = err
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
		r.err = err
		return r
	}
	timer := time.AfterFunc(cmdTimeout, func() { cmd.Process.Kill() })
	r.err = cmd.Wait()
	timer.Stop()
	r.code = cmd.ProcessState.ExitCode()
	stdout, _ := os.ReadFile(out.Name())
	stderr, _ := os.ReadFile(errf.Name())
	r.stdout, r.stderr = string(stdout), string(stderr)
	return r
}

// run runs args, fails the test unless it exits 0, and returns its stdout
// with surrounding space trimmed.
func run(t testing.TB, args ...string) string {
	t.Helper()
	r := try(args...)
	if r.code != 0 {
		t.Fatal(r)
	}
	return strings.TrimSpace(r.stdout)
}

// sh runs a shell script as root with run.
func sh(t testing.TB, script string) string {
	t.Helper()
	return run(t, "/bin/sh", "-c", script)
}

// asUser prefixes args to run as hakouser with the environment of its
// session: XDG_RUNTIME_DIR and the session bus, as a login would set them
// (rootless podman and `systemctl --user` need both). The process stays in
// the test's cgroup; use inUserManager for one in the user's own tree.
func asUser(args ...string) []string {
	return append([]string{"runuser", "-u", user, "--", "env",
		"HOME=/home/" + user, "USER=" + user, "LOGNAME=" + user,
		fmt.Sprintf("XDG_RUNTIME_DIR=/run/user/%d", userUID),
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + userBus}, args...)
}

// inUserManager prefixes args to run as a transient service of hakouser's
// systemd instance (systemd-run --user), in a cgroup under
// user@1500.service, which systemd delegates to the user: where rootless
// engines put their containers. Output and exit status come back.
func inUserManager(args ...string) []string {
	return append([]string{"systemd-run", "--quiet", "--user", "--machine", user + "@",
		"--wait", "--pipe", "--collect", "--"}, args...)
}

// waitFor polls cond every 100 ms until it holds or timeout passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(timeout); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// newID is a container name unique to the run, e.g. "sysvm-3f2a9c01".
func newID(t testing.TB) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "sysvm-" + hex.EncodeToString(b)
}

// Engines loadImage knows.
const (
	docker     = "docker"
	podman     = "podman"
	containerd = "containerd" // ctr, namespace k8s.io (the CRI plugin's)
)

var loaded = struct {
	sync.Mutex
	done map[string]bool
}{done: map[string]bool{}}

// loadImage loads the busybox image (imageRef) into the engine's system
// instance, once per run. The image stays for the rest of the run.
func loadImage(t testing.TB, engine string) {
	t.Helper()
	loaded.Lock()
	defer loaded.Unlock()
	if loaded.done[engine] {
		return
	}
	switch engine {
	case docker:
		run(t, "docker", "load", "-i", imageTar)
	case podman:
		run(t, "podman", "load", "-i", imageTar)
	case containerd:
		run(t, "ctr", "-n", "k8s.io", "images", "import", imageTar)
	default:
		t.Fatalf("loadImage: unknown engine %q", engine)
	}
	loaded.done[engine] = true
}

// hako runs the binary under test (-hako.bin) with args.
func hako(args ...string) result {
	return try(append([]string{*hakoBin}, args...)...)
}

// bundle makes an OCI bundle in a temporary directory: a busybox rootfs and
// `hako spec`'s default config.json, not on a terminal, changed by edits.
// It returns the bundle directory.
func bundle(t testing.TB, edits ...func(*specs.Spec)) string {
	t.Helper()
	dir := t.TempDir()
	if err := busyboximage.WriteRootfs(filepath.Join(dir, "rootfs"), busybox); err != nil {
		t.Fatal(err)
	}
	run(t, *hakoBin, "spec", "--bundle", dir)
	cfg := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	s.Process.Terminal = false
	for _, edit := range edits {
		edit(&s)
	}
	if data, err = json.MarshalIndent(&s, "", "\t"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// withArgs sets the container's command.
func withArgs(args ...string) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Process.Args = args }
}

// withCgroupsPath sets linux.cgroupsPath.
func withCgroupsPath(p string) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Linux.CgroupsPath = p }
}

// withResources sets linux.resources (keeping the default device rules).
func withResources(edit func(*specs.LinuxResources)) func(*specs.Spec) {
	return func(s *specs.Spec) {
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		edit(s.Linux.Resources)
	}
}

// readFile returns a file's content with surrounding space trimmed, or
// fails the test.
func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
