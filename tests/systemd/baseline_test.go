package systemd

// The baseline: the VM is the host we claim it is, and the engines run the
// busybox image with their default runtimes, to compare hako against.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestBaselineSystemdIsPID1(t *testing.T) {
	if comm := readFile(t, "/proc/1/comm"); comm != "systemd" {
		t.Fatalf("PID 1 is %q, want systemd", comm)
	}
	// --wait: the runner starts the suite once boot has finished, but a
	// test run by hand right after boot should not fail for it.
	r := try("timeout", "120", "systemctl", "is-system-running", "--wait")
	state := strings.TrimSpace(r.stdout)
	switch state {
	case "running":
	case "degraded":
		t.Logf("system degraded; failed units:\n%s", run(t, "systemctl", "--failed", "--no-pager"))
	default:
		t.Fatalf("systemctl is-system-running: %q, want running (or degraded)\n%s", state, r)
	}
	t.Logf("%s, systemd %s", state, strings.Fields(run(t, "systemctl", "--version"))[1])
}

func TestBaselineCgroup2Only(t *testing.T) {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		t.Fatalf("/sys/fs/cgroup has file system type %#x, want cgroup2 (%#x)", st.Type, unix.CGROUP2_SUPER_MAGIC)
	}
	for _, line := range strings.Split(readFile(t, "/proc/self/mounts"), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[2] == "cgroup" {
			t.Errorf("a cgroup v1 hierarchy is mounted: %s", line)
		}
	}
	if cg := readFile(t, "/proc/self/cgroup"); !strings.HasPrefix(cg, "0::/") || strings.Contains(cg, "\n") {
		t.Errorf("/proc/self/cgroup = %q, want one 0::/ line", cg)
	}
	t.Logf("controllers: %s", readFile(t, "/sys/fs/cgroup/cgroup.controllers"))
}

func TestBaselineAppArmor(t *testing.T) {
	if on := readFile(t, "/sys/module/apparmor/parameters/enabled"); on != "Y" {
		t.Fatalf("/sys/module/apparmor/parameters/enabled = %q, want Y", on)
	}
	if lsm := readFile(t, "/sys/kernel/security/lsm"); !strings.Contains(lsm, "apparmor") {
		t.Errorf("active LSMs %q lack apparmor", lsm)
	}
	// Docker loads its docker-default profile when it starts containers;
	// AppArmor's own service has loaded the distribution's at boot.
	profiles := readFile(t, "/sys/kernel/security/apparmor/profiles")
	t.Logf("%d profiles loaded", len(strings.Split(profiles, "\n")))
}

// dockerInfo is the part of `docker info` the baseline checks.
type dockerInfo struct {
	CgroupDriver     string
	CgroupVersion    string
	DefaultRuntime   string
	SecurityOptions  []string
	ServerVersion    string
	Driver           string
	OperatingSystem  string
	KernelVersion    string
	Runtimes         map[string]any
	ContainerdCommit struct{ ID string }
}

func TestBaselineDockerInfo(t *testing.T) {
	var info dockerInfo
	if err := json.Unmarshal([]byte(run(t, "docker", "info", "--format", "{{json .}}")), &info); err != nil {
		t.Fatal(err)
	}
	if info.CgroupDriver != "systemd" || info.CgroupVersion != "2" {
		t.Errorf("docker: cgroup driver %q, version %q; want systemd, 2", info.CgroupDriver, info.CgroupVersion)
	}
	if !slices.Contains(info.SecurityOptions, "name=apparmor") {
		t.Errorf("docker security options %q lack apparmor", info.SecurityOptions)
	}
	if info.DefaultRuntime != "runc" {
		t.Errorf("docker default runtime %q, want runc (Debian's default)", info.DefaultRuntime)
	}
	t.Logf("docker %s, storage %s, kernel %s, security %q", info.ServerVersion, info.Driver, info.KernelVersion, info.SecurityOptions)
}

func TestBaselineUserSession(t *testing.T) {
	if s := run(t, "systemctl", "is-active", fmt.Sprintf("user@%d.service", userUID)); s != "active" {
		t.Fatalf("user@%d.service is %q", userUID, s)
	}
	if st, err := os.Stat(userBus); err != nil || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("%s: %v, not a socket (dbus-user-session)", userBus, err)
	}
	// The user's own manager answers on its bus, as the user.
	r := try(asUser("systemctl", "--user", "is-system-running")...)
	if s := strings.TrimSpace(r.stdout); s != "running" && s != "degraded" {
		t.Fatalf("the user manager is %q\n%s", s, r)
	}
	// And runs a unit for root through it, in the user's delegated tree.
	cg := run(t, inUserManager("cat", "/proc/self/cgroup")...)
	if !strings.Contains(cg, fmt.Sprintf("/user.slice/user-%d.slice/user@%d.service/", userUID, userUID)) {
		t.Errorf("a unit of the user manager runs in %q, not under user@%d.service", cg, userUID)
	}
	if id := run(t, asUser("id", "-u")...); id != strconv.Itoa(userUID) {
		t.Errorf("asUser runs as uid %s, want %d", id, userUID)
	}
}

// The engines run the image with their default runtime: the baseline a
// hako-driven run is compared with. The script prints a line and exits 3,
// which each engine must hand back.
func TestBaselineEngines(t *testing.T) {
	const script = "echo hello from $(cat /proc/1/comm); exit 3"
	tests := []struct {
		name, engine string
		args         func(id string) []string
	}{
		{"docker", docker, func(id string) []string {
			return []string{"docker", "run", "--rm", "--name", id, imageRef, "sh", "-c", script}
		}},
		{"podman", podman, func(id string) []string {
			return []string{"podman", "run", "--rm", "--name", id, imageRef, "sh", "-c", script}
		}},
		{"podman-runc", podman, func(id string) []string {
			return []string{"podman", "--runtime", "runc", "run", "--rm", "--name", id, imageRef, "sh", "-c", script}
		}},
		{"containerd", containerd, func(id string) []string {
			return []string{"ctr", "-n", "k8s.io", "run", "--rm", imageRef, id, "sh", "-c", script}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loadImage(t, tt.engine)
			start := time.Now()
			r := try(tt.args(newID(t))...)
			if r.code != 3 || strings.TrimSpace(r.stdout) != "hello from sh" {
				t.Fatalf("want exit 3 and \"hello from sh\"; got\n%s", r)
			}
			t.Logf("ran in %v", time.Since(start).Round(time.Millisecond))
		})
	}
	t.Run("docker-scope", func(t *testing.T) {
		// Docker's systemd cgroup driver: the container is a transient
		// unit, system.slice/docker-<id>.scope, that systemd reports
		// active. What hako must do when Docker drives it.
		loadImage(t, docker)
		name := newID(t)
		full := run(t, "docker", "run", "-d", "--name", name, imageRef, "sleep", "300")
		t.Cleanup(func() { try("docker", "rm", "-f", name) })
		unit := "docker-" + full + ".scope"
		if s := sh(t, "systemctl is-active "+unit+" || true"); s != "active" {
			t.Errorf("%s is %q, want active", unit, s)
		}
		pid := run(t, "docker", "inspect", "--format", "{{.State.Pid}}", name)
		if cg := readFile(t, "/proc/"+pid+"/cgroup"); cg != "0::/system.slice/"+unit {
			t.Errorf("the container's init is in %q, want 0::/system.slice/%s", cg, unit)
		}
	})
	t.Run("podman-default-runtime", func(t *testing.T) {
		// Debian's podman prefers crun where it is installed: recorded,
		// not asserted.
		t.Logf("podman's default OCI runtime: %s", run(t, "podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"))
	})
}

// hako on a plain cgroupfs path of this pure v2 host: the limits land in
// the cgroup files, the container's processes are in it, and delete
// removes it.
func TestHakoCgroupfsPath(t *testing.T) {
	id := newID(t)
	parent := "/sys/fs/cgroup/hako-sysvm"
	t.Cleanup(func() { os.Remove(parent) })
	mem, pids := int64(64<<20), int64(32)
	b := bundle(t, withArgs("sleep", "300"), withCgroupsPath("/hako-sysvm/"+id), withResources(func(r *specs.LinuxResources) {
		r.Memory = &specs.LinuxMemory{Limit: &mem}
		r.Pids = &specs.LinuxPids{Limit: &pids}
	}))
	if r := hako("run", "-d", "--bundle", b, id); r.code != 0 {
		t.Fatal(r)
	}
	t.Cleanup(func() { hako("delete", "--force", id) })
	cg := filepath.Join(parent, id)
	if got := readFile(t, filepath.Join(cg, "memory.max")); got != strconv.FormatInt(mem, 10) {
		t.Errorf("memory.max = %s, want %d", got, mem)
	}
	if got := readFile(t, filepath.Join(cg, "pids.max")); got != strconv.FormatInt(pids, 10) {
		t.Errorf("pids.max = %s, want %d", got, pids)
	}
	var st specs.State
	if err := json.Unmarshal([]byte(run(t, *hakoBin, "state", id)), &st); err != nil {
		t.Fatal(err)
	}
	if procs := strings.Fields(readFile(t, filepath.Join(cg, "cgroup.procs"))); !slices.Contains(procs, strconv.Itoa(st.Pid)) {
		t.Errorf("init (pid %d) is not in %s: %q", st.Pid, cg, procs)
	}
	if out := run(t, *hakoBin, "exec", id, "cat", "/proc/self/cgroup"); out != "0::/" {
		t.Errorf("in the container's cgroup namespace, /proc/self/cgroup = %q, want 0::/", out)
	}
	run(t, *hakoBin, "kill", id, "KILL")
	waitFor(t, "the container to stop", 30*time.Second, func() bool {
		return strings.Contains(hako("state", id).stdout, `"stopped"`)
	})
	run(t, *hakoBin, "delete", id)
	if _, err := os.Stat(cg); !os.IsNotExist(err) {
		t.Errorf("%s is still there after delete (%v)", cg, err)
	}
}

// A foreground run hands back the container's output and exit status.
func TestHakoRunForeground(t *testing.T) {
	b := bundle(t, withArgs("sh", "-c", "echo hello from $(cat /proc/1/comm); exit 3"))
	r := hako("run", "--bundle", b, newID(t))
	if r.code != 3 || strings.TrimSpace(r.stdout) != "hello from sh" {
		t.Fatalf("want exit 3 and \"hello from sh\"; got\n%s", r)
	}
}
