package systemd

// hako's systemd cgroup driver on its own (--systemd-cgroup): the scope
// unit, its properties against the kernel's files, update, pause, exec,
// delete, the OOM case, a create killed half-way, and the errors a user
// can meet.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/tests/internal/guest"
)

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }

// unitProps reads `systemctl show` properties of a unit.
func unitProps(t testing.TB, unit string, names ...string) map[string]string {
	t.Helper()
	return guest.UnitProps(t, unit, names...)
}

// unitGone checks that systemd keeps nothing of unit (not even a failed
// or inactive unit) and its cgroup directory is gone.
func unitGone(t testing.TB, unit, dir string) {
	t.Helper()
	guest.UnitGone(t, unit, dir)
}

// sdCtr is one container of hako's under the systemd driver.
type sdCtr struct {
	t          *testing.T
	id, bundle string
	root       string // hako's state root
	unit, dir  string // the scope and its cgroup directory
}

func newSdCtr(t *testing.T, slice, prefix string, edits ...func(*specs.Spec)) *sdCtr {
	t.Helper()
	c := &sdCtr{t: t, id: newID(t), root: t.TempDir()}
	path := slice + ":" + prefix + ":" + c.id
	c.bundle = bundle(t, append([]func(*specs.Spec){withCgroupsPath(path)}, edits...)...)
	c.unit = prefix + "-" + c.id + ".scope"
	exp := "/" + slice
	if slice != "system.slice" {
		exp = expandSliceForTest(slice)
	}
	c.dir = "/sys/fs/cgroup" + exp + "/" + c.unit
	t.Cleanup(func() {
		c.hako("delete", "--force", c.id)
		unitGone(t, c.unit, c.dir)
	})
	return c
}

func expandSliceForTest(s string) string {
	parts := strings.Split(strings.TrimSuffix(s, ".slice"), "-")
	var p string
	for i := range parts {
		p += "/" + strings.Join(parts[:i+1], "-") + ".slice"
	}
	return p
}

func (c *sdCtr) hako(args ...string) result {
	return hako(append([]string{"--root", c.root, "--systemd-cgroup"}, args...)...)
}

func (c *sdCtr) ok(args ...string) string {
	c.t.Helper()
	r := c.hako(args...)
	if r.code != 0 {
		c.t.Fatalf("%s", r)
	}
	return r.stdout
}

func (c *sdCtr) pid() int {
	c.t.Helper()
	var st specs.State
	if err := json.Unmarshal([]byte(c.ok("state", c.id)), &st); err != nil {
		c.t.Fatal(err)
	}
	return st.Pid
}

func (c *sdCtr) status() string {
	var st specs.State
	json.Unmarshal([]byte(c.hako("state", c.id).stdout), &st)
	return string(st.Status)
}

// TestSystemdLifecycle: create puts init in a scope with the limits as
// properties and as files; start, exec, update (and a daemon-reload after
// it), pause/resume, events, kill and delete.
func TestSystemdLifecycle(t *testing.T) {
	c := newSdCtr(t, "system.slice", "hakotest", withArgs("sleep", "300"), withResources(func(r *specs.LinuxResources) {
		r.Memory = &specs.LinuxMemory{Limit: i64(64 << 20)}
		r.CPU = &specs.LinuxCPU{Quota: i64(25000), Period: u64(100000), Shares: u64(512)}
		r.Pids = &specs.LinuxPids{Limit: i64(42)}
	}))
	c.ok("create", "--bundle", c.bundle, c.id)
	pid := c.pid()
	if cg := readFile(t, fmt.Sprintf("/proc/%d/cgroup", pid)); cg != "0::/system.slice/"+c.unit {
		t.Errorf("init's cgroup is %q, want the scope %s", cg, c.unit)
	}
	p := unitProps(t, c.unit, "ActiveState", "Delegate", "Slice", "MemoryMax", "TasksMax", "CPUQuotaPerSecUSec", "CPUWeight", "DevicePolicy", "Description", "CollectMode")
	want := map[string]string{"ActiveState": "active", "Delegate": "yes", "Slice": "system.slice", "MemoryMax": "67108864",
		"TasksMax": "42", "CPUQuotaPerSecUSec": "250ms", "CPUWeight": "20", "DevicePolicy": "strict",
		"Description": "hako container " + c.id, "CollectMode": "inactive-or-failed"}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("systemctl show %s: %s=%q, want %q", c.unit, k, p[k], v)
		}
	}
	files := map[string]string{"memory.max": "67108864", "pids.max": "42", "cpu.max": "25000 100000", "cpu.weight": "20"}
	for f, v := range files {
		if got := readFile(t, filepath.Join(c.dir, f)); got != v {
			t.Errorf("%s = %q, want %q", f, got, v)
		}
	}
	c.ok("start", c.id)
	waitFor(t, "running", 10*time.Second, func() bool { return c.status() == "running" })

	// exec joins the scope.
	if out := c.ok("exec", c.id, "cat", "/proc/self/cgroup"); strings.TrimSpace(out) != "0::/" {
		t.Errorf("exec's cgroup inside the container's cgroup namespace: %q, want 0::/", out)
	}
	// update: systemd's properties and the files agree, and a
	// daemon-reload (systemd re-applies its properties) keeps the update.
	c.ok("update", "--memory", "96m", "--pids-limit", "77", c.id)
	run(t, "systemctl", "daemon-reload")
	p = unitProps(t, c.unit, "MemoryMax", "TasksMax")
	if p["MemoryMax"] != "100663296" || p["TasksMax"] != "77" {
		t.Errorf("after update and daemon-reload: %v", p)
	}
	if got := readFile(t, filepath.Join(c.dir, "memory.max")); got != "100663296" {
		t.Errorf("memory.max after update and daemon-reload = %s", got)
	}
	if got := readFile(t, filepath.Join(c.dir, "pids.max")); got != "77" {
		t.Errorf("pids.max after update and daemon-reload = %s", got)
	}

	c.ok("pause", c.id)
	if c.status() != "paused" || readFile(t, filepath.Join(c.dir, "cgroup.freeze")) != "1" {
		t.Errorf("pause: status %s, cgroup.freeze %s", c.status(), readFile(t, filepath.Join(c.dir, "cgroup.freeze")))
	}
	c.ok("resume", c.id)
	if c.status() != "running" {
		t.Errorf("resume: status %s", c.status())
	}
	var ev struct {
		Type string
		Data struct {
			Memory struct{ Usage struct{ Usage uint64 } }
		}
	}
	if err := json.Unmarshal([]byte(c.ok("events", "--stats", c.id)), &ev); err != nil || ev.Data.Memory.Usage.Usage == 0 {
		t.Errorf("events --stats: %v %+v", err, ev)
	}
	if out := c.ok("ps", c.id); !strings.Contains(out, strconv.Itoa(pid)) {
		t.Errorf("ps does not list init %d:\n%s", pid, out)
	}
	c.ok("kill", c.id, "KILL")
	waitFor(t, "stopped", 10*time.Second, func() bool { return c.status() == "stopped" })
	c.ok("delete", c.id)
	unitGone(t, c.unit, c.dir)
}

// TestSystemdDefaultPathAndSlices: no cgroupsPath is
// system.slice:hako:<id>; a nested slice is made and expanded as systemd
// does (a-b.slice under a.slice).
func TestSystemdDefaultPathAndSlices(t *testing.T) {
	c := newSdCtr(t, "system.slice", "hako", withCgroupsPath(""), withArgs("cat", "/proc/self/cgroup"))
	if out := c.ok("run", "--bundle", c.bundle, c.id); strings.TrimSpace(out) != "0::/" {
		t.Errorf("run: %q", out)
	}
	slice := "hakotest" + strings.TrimPrefix(newID(t), "sysvm-") + "-pods.slice"
	t.Cleanup(func() { try("systemctl", "stop", slice, strings.SplitN(slice, "-", 2)[0]+".slice") })
	n := newSdCtr(t, slice, "ctr", withArgs("sleep", "300"))
	n.ok("run", "-d", "--bundle", n.bundle, n.id)
	if _, err := os.Stat(n.dir); err != nil {
		t.Errorf("nested slice: %v", err)
	}
	if p := unitProps(t, n.unit, "Slice"); p["Slice"] != slice {
		t.Errorf("Slice=%s, want %s", p["Slice"], slice)
	}
}

// TestSystemdOOM: the OOM killer ends the container; afterwards systemd
// keeps no unit, not even a failed one (runc left exactly that behind).
func TestSystemdOOM(t *testing.T) {
	c := newSdCtr(t, "system.slice", "hakotest", withArgs("sh", "-c", "head -c 200m /dev/zero | tail >/dev/null"),
		withResources(func(r *specs.LinuxResources) {
			r.Memory = &specs.LinuxMemory{Limit: i64(16 << 20), Swap: i64(16 << 20)}
		}))
	r := c.hako("run", "--bundle", c.bundle, c.id)
	if r.code != 137 {
		t.Errorf("run: want exit 137 (SIGKILL from the OOM killer): %s", r)
	}
	unitGone(t, c.unit, c.dir)
	if out := run(t, "systemctl", "list-units", "--failed", "--plain", "--no-legend"); strings.Contains(out, c.unit) {
		t.Errorf("failed units: %s", out)
	}
}

// TestSystemdKilledDuringCreate: hako is SIGKILLed at points through
// create; delete --force afterwards leaves no unit, cgroup, process or
// state.
func TestSystemdKilledDuringCreate(t *testing.T) {
	for _, d := range []time.Duration{0, 10 * time.Millisecond, 40 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, 600 * time.Millisecond} {
		t.Run(d.String(), func(t *testing.T) {
			c := newSdCtr(t, "system.slice", "hakotest", withArgs("sleep", "300"))
			cmd := hakoCmd("--root", c.root, "--systemd-cgroup", "create", "--bundle", c.bundle, c.id)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(d)
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			if r := c.hako("delete", "--force", c.id); r.code != 0 && !strings.Contains(r.stderr, "does not exist") {
				t.Errorf("delete --force: %s", r)
			}
			unitGone(t, c.unit, c.dir)
			if _, err := os.Stat(filepath.Join(c.root, c.id)); !os.IsNotExist(err) {
				t.Errorf("state dir left: %v", err)
			}
			if out := try("pgrep", "-f", c.bundle); out.stdout != "" {
				t.Errorf("processes of the container left: %s", out.stdout)
			}
		})
	}
}

// TestSystemdErrors: what a user sees when the driver cannot do it.
func TestSystemdErrors(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		ann        map[string]string
		want       string
	}{
		{"two parts", "system.slice:x", nil, `must be "slice:prefix:name"`},
		{"not a slice", "system:hakotest:x", nil, `"system" is not a slice name`},
		{"slice name", "system.slice:hakotest:x.slice", nil, "a name ending in .slice is not supported"},
		{"bad property name", "", map[string]string{"org.systemd.property.No-Such": "1"}, "is not a systemd property name"},
		{"bad property value", "", map[string]string{"org.systemd.property.CPUWeight": "'heavy'"}, "systemd start unit hakotest-"},
		{"missing dependency", "", map[string]string{"org.systemd.property.Requires": "['no-such-hako.service']"}, "in system.slice: Unit no-such-hako.service not found."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := newID(t)
			path := tc.path
			if path == "" {
				path = "system.slice:hakotest:" + id
			}
			b := bundle(t, withCgroupsPath(path), withArgs("true"), func(s *specs.Spec) { s.Annotations = tc.ann })
			root := t.TempDir()
			r := hako("--root", root, "--systemd-cgroup", "run", "--bundle", b, id)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("want an error with %q: %s", tc.want, r)
			}
			if ents, _ := os.ReadDir(root); len(ents) > 0 {
				t.Errorf("state left after a failed run: %v", ents)
			}
			if out := run(t, "systemctl", "list-units", "--all", "--plain", "--no-legend", "hakotest-"+id+".scope"); out != "" {
				t.Errorf("unit left: %s", out)
			}
		})
	}
	// Two containers asking for the same scope: the second one is told.
	c := newSdCtr(t, "system.slice", "hakotest", withArgs("sleep", "300"))
	c.ok("run", "-d", "--bundle", c.bundle, c.id)
	r := hako("--root", t.TempDir(), "--systemd-cgroup", "run", "--bundle", c.bundle, c.id)
	if r.code == 0 || !strings.Contains(r.stderr, "systemd unit "+c.unit+" already exists") {
		t.Errorf("second container on one scope: %s", r)
	}
	if st, p := c.status(), unitProps(t, c.unit, "ActiveState"); st != "running" || p["ActiveState"] != "active" {
		t.Errorf("the first container is %s, its unit %s, after the second one failed: the failed create must leave another container's unit alone", st, p["ActiveState"])
	}
}

// TestSystemdExecSubCgroup: exec --cgroup in a child of the scope.
func TestSystemdExecSubCgroup(t *testing.T) {
	c := newSdCtr(t, "system.slice", "hakotest", withArgs("sleep", "300"), func(s *specs.Spec) {
		// without a cgroup namespace the path shows whole
		var ns []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			if n.Type != specs.CgroupNamespace {
				ns = append(ns, n)
			}
		}
		s.Linux.Namespaces = ns
	})
	c.ok("run", "-d", "--bundle", c.bundle, c.id)
	// The scope's own processes move to a leaf first (no internal
	// processes), as systemd inside a container would do.
	if err := os.Mkdir(filepath.Join(c.dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := c.ok("exec", "--cgroup", "sub", c.id, "cat", "/proc/self/cgroup")
	if strings.TrimSpace(out) != "0::/system.slice/"+c.unit+"/sub" {
		t.Errorf("exec --cgroup sub: %q", out)
	}
}

// hakoCmd is the binary under test as a command not yet started.
func hakoCmd(args ...string) *exec.Cmd { return exec.Command(*hakoBin, args...) }
