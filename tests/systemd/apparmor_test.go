package systemd

// AppArmor on a host that has it: the container's program and what exec
// starts run under process.apparmorProfile (Docker's docker-default, and a
// profile of our own that denies one file); a profile that is not loaded
// is refused by name.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func withProfile(p string) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Process.ApparmorProfile = p }
}

// dockerDefault waits for Docker's profile: dockerd loads docker-default
// when it starts (it is not a file in /etc/apparmor.d).
func dockerDefault(t *testing.T) {
	t.Helper()
	run(t, "systemctl", "start", "docker")
	waitFor(t, "docker-default to be loaded", 2*time.Minute, func() bool {
		b, _ := os.ReadFile("/sys/kernel/security/apparmor/profiles")
		return strings.Contains(string(b), "docker-default (enforce)")
	})
}

// runDetached starts a container with hako run -d and returns its ID and
// init's pid; the container is deleted at cleanup.
func runDetached(t *testing.T, edits ...func(*specs.Spec)) (string, int) {
	t.Helper()
	id := newID(t)
	b := bundle(t, append([]func(*specs.Spec){withArgs("sleep", "300")}, edits...)...)
	if r := hako("run", "-d", "--bundle", b, id); r.code != 0 {
		t.Fatal(r)
	}
	t.Cleanup(func() { hako("delete", "--force", id) })
	var st specs.State
	if err := json.Unmarshal([]byte(run(t, *hakoBin, "state", id)), &st); err != nil {
		t.Fatal(err)
	}
	return id, st.Pid
}

func TestAppArmorDockerDefault(t *testing.T) {
	dockerDefault(t)
	id, pid := runDetached(t, withProfile("docker-default"))
	if got := readFile(t, "/proc/"+strconv.Itoa(pid)+"/attr/current"); got != "docker-default (enforce)" {
		t.Errorf("the container's PID 1 (%d) runs under %q, want docker-default (enforce)", pid, got)
	}
	// exec: the container's profile, unless the process names one.
	if got := run(t, *hakoBin, "exec", id, "cat", "/proc/self/attr/current"); got != "docker-default (enforce)" {
		t.Errorf("exec runs under %q, want the container's docker-default (enforce)", got)
	}
	if got := run(t, *hakoBin, "exec", "--apparmor", "unconfined", id, "cat", "/proc/self/attr/current"); got != "unconfined" {
		t.Errorf("exec --apparmor unconfined runs under %q", got)
	}
}

// docker-default denies mount(2) whatever the capabilities: with
// CAP_SYS_ADMIN a tmpfs mount fails under the profile and works without it
// (the control), so the profile is enforced, not only named.
func TestAppArmorDockerDefaultEnforced(t *testing.T) {
	dockerDefault(t)
	sysAdmin := func(s *specs.Spec) {
		c := s.Process.Capabilities
		c.Bounding = append(c.Bounding, "CAP_SYS_ADMIN")
		c.Effective = append(c.Effective, "CAP_SYS_ADMIN")
		c.Permitted = append(c.Permitted, "CAP_SYS_ADMIN")
	}
	mount := withArgs("sh", "-c", "mkdir -p /dev/shm/m && mount -t tmpfs none /dev/shm/m && echo mounted")
	r := hako("run", "--bundle", bundle(t, sysAdmin, mount, withProfile("docker-default")), newID(t))
	if r.code == 0 || !strings.Contains(r.stderr, "Permission denied") {
		t.Errorf("mount under docker-default with CAP_SYS_ADMIN: want Permission denied\n%s", r)
	}
	if r := hako("run", "--bundle", bundle(t, sysAdmin, mount), newID(t)); r.code != 0 || strings.TrimSpace(r.stdout) != "mounted" {
		t.Errorf("control: the same mount without a profile failed\n%s", r)
	}
}

// A profile of the test's own, loaded with apparmor_parser: everything
// allowed but reading one file.
const testProfile = `profile hako-sysvm-test flags=(attach_disconnected,mediate_deleted) {
  file,
  network,
  capability,
  signal,
  unix,
  ptrace,
  mount,
  umount,
  pivot_root,
  deny /etc/hako-denied r,
}
`

func TestAppArmorOwnProfile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hako-sysvm-test")
	if err := os.WriteFile(p, []byte(testProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded: %s", sh(t, "apparmor_parser -r "+p+" && grep hako-sysvm-test /sys/kernel/security/apparmor/profiles"))
	t.Cleanup(func() { try("apparmor_parser", "-R", p) })
	b := bundle(t, withProfile("hako-sysvm-test"), withArgs("sh", "-c", "cat /proc/self/attr/current; cat /etc/hako-denied"))
	if err := os.WriteFile(filepath.Join(b, "rootfs", "etc", "hako-denied"), []byte("secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := hako("run", "--bundle", b, newID(t))
	if !strings.Contains(r.stdout, "hako-sysvm-test (enforce)") || r.code == 0 || !strings.Contains(r.stderr, "Permission denied") {
		t.Errorf("want the program in hako-sysvm-test (enforce) and the read denied\n%s", r)
	}
}

// A profile that is not loaded: the kernel refuses the "exec NAME" write
// with ENOENT; hako names the profile, for run and for exec, and leaves
// nothing behind.
func TestAppArmorNotLoaded(t *testing.T) {
	const want = `apparmor profile "hako-no-such-profile" is not loaded (see aa-status / apparmor_parser)`
	id := newID(t)
	r := hako("run", "--bundle", bundle(t, withProfile("hako-no-such-profile"), withArgs("true")), id)
	if r.code == 0 || !strings.Contains(r.stderr, want) {
		t.Errorf("run: want %q\n%s", want, r)
	}
	if r := hako("state", id); r.code == 0 {
		t.Errorf("a refused create left container %s behind: %s", id, r.stdout)
		hako("delete", "--force", id)
	}
	ctr, _ := runDetached(t)
	if r := hako("exec", "--apparmor", "hako-no-such-profile", ctr, "true"); r.code == 0 || !strings.Contains(r.stderr, want) {
		t.Errorf("exec: want %q\n%s", want, r)
	}
}

// features: the host's AppArmor, as hako sees it.
func TestAppArmorFeatures(t *testing.T) {
	var f struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal([]byte(run(t, *hakoBin, "features")), &f); err != nil {
		t.Fatal(err)
	}
	if got := f.Annotations["org.hako.host.apparmor.enabled"]; got != "true" {
		t.Errorf("features: host apparmor %q, want true", got)
	}
}
