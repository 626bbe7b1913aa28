package hk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// boxImage imports the busybox rootfs tarball (a `docker export`) as
// image ref with CMD sh, and returns ref.
func boxImage(t *testing.T, h *hkEnv, ref string) string {
	t.Helper()
	h.ok("import", "--change", `CMD ["sh"]`, "--change", "ENV FROM_IMAGE=yes", imgWrite(t, imgRootfsTar(t)), ref)
	return ref
}

// boxCgroupParent is a cgroup parent of the test's own (run
// --cgroup-parent): what is left under it is the test's leftover, whatever
// other hk users of the machine do meanwhile. The cleanup removes the
// parent, and fails the test if a container's cgroup is still in it.
func boxCgroupParent(t *testing.T) string {
	parent := "/" + uniq("hk-test-")
	t.Cleanup(func() {
		for _, d := range boxCgroupsUnder(parent) {
			t.Errorf("cgroup left behind: %s", d)
		}
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*" + parent)
		for _, d := range dirs {
			os.Remove(d)
		}
	})
	return parent
}

// boxCgroupsUnder lists the cgroups below parent in every hierarchy.
func boxCgroupsUnder(parent string) []string {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*" + parent + "/*")
	var out []string
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			out = append(out, d)
		}
	}
	return out
}

// boxNothingLeft fails the test if h's roots hold a container (record,
// directory, runtime state), a mount, or a process of one, or if a
// container's cgroup is left under parent ("": skip that check).
func boxNothingLeft(t *testing.T, h *hkEnv, parent string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := boxLeftovers(h, parent)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("left behind: %s", strings.Join(left, "; "))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func boxLeftovers(h *hkEnv, parent string) []string {
	var left []string
	if r := h.run("ps", "-aq"); r.code != 0 || strings.TrimSpace(r.out) != "" {
		left = append(left, "ps -aq: "+r.String())
	}
	ents, _ := os.ReadDir(filepath.Join(h.root, "containers"))
	for _, e := range ents {
		if e.Name() != "containers.db" {
			left = append(left, "containers/"+e.Name())
		}
	}
	ents, _ = os.ReadDir(filepath.Join(h.runroot, "runtime"))
	for _, e := range ents {
		left = append(left, "runtime/"+e.Name())
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mi), "\n") {
		if strings.Contains(l, h.root+"/") {
			left = append(left, "mount: "+l)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), h.root+"\x00") && !strings.Contains(string(b), "\x00ps\x00") {
			left = append(left, "process "+p+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	if parent != "" {
		for _, d := range boxCgroupsUnder(parent) {
			left = append(left, "cgroup "+d)
		}
	}
	return left
}

// boxWaitLog waits until the container's log has want (on stdout or
// stderr: the monitor reads the two pipes apart, in no fixed order).
func boxWaitLog(t *testing.T, h *hkEnv, name, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := h.run("logs", name)
		if strings.Contains(r.out, want) || strings.Contains(r.err, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("logs %s never had %q: %s", name, want, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Every container verb has --help with Docker's usage line, and run's -h
// is --hostname, as Docker's.
func TestBoxHelp(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	for _, v := range []string{"run", "create", "start", "stop", "kill", "restart", "rm", "ps", "logs", "exec",
		"wait", "pause", "unpause", "inspect", "top", "stats"} {
		r := h.run(v, "--help")
		if r.code != 0 || !strings.Contains(r.out, "Usage:\n  hk "+v) {
			t.Errorf("hk %s --help: %s", v, r)
		}
	}
	if r := h.run("run", "--help"); !strings.Contains(r.out, "-h, --hostname") || !strings.Contains(r.out, "--network") {
		t.Errorf("run --help: %s", r.out)
	}
}
