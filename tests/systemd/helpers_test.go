package systemd

// Helpers for every test of the package: commands as root or as hakouser,
// the busybox image in each engine, hako bundles. Each returns what it made
// and registers its own cleanup with t.Cleanup.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/tests/internal/busyboximage"
	"hako/tests/internal/guest"
)

// The unprivileged user of the VM: lingering, so its systemd instance
// (user@1500.service) and its session bus run from boot.
const (
	user    = "hakouser"
	userUID = 1500
	userBus = "/run/user/1500/bus"
)

// result is a finished command (guest.Result, with the names this
// package's tests use).
type result struct {
	args           []string
	stdout, stderr string
	code           int // the exit status; -1 if it did not run or was killed
	err            error
}

func (r result) String() string {
	return guest.Result{Args: r.args, Stdout: r.stdout, Stderr: r.stderr, Code: r.code, Err: r.err}.String()
}

// try runs args and returns what happened (guest.Try); it never fails the
// test.
func try(args ...string) result {
	r := guest.Try(args...)
	return result{args: r.Args, stdout: r.Stdout, stderr: r.Stderr, code: r.Code, err: r.Err}
}

// run runs args, fails the test unless it exits 0, and returns its stdout
// with surrounding space trimmed.
func run(t testing.TB, args ...string) string {
	t.Helper()
	return guest.Run(t, args...)
}

// sh runs a shell script as root with run.
func sh(t testing.TB, script string) string {
	t.Helper()
	return guest.Sh(t, script)
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
	guest.WaitFor(t, what, timeout, cond)
}

// newID is a container name unique to the run, e.g. "sysvm-3f2a9c01".
func newID(t testing.TB) string { return guest.NewID("sysvm") }

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
	return guest.ReadFile(t, path)
}
