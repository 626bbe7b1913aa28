package engines

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// podmanConf is containers.conf for the test (the recipe in
// docs/engines.md): hako as the default runtime, the cgroupfs manager, the
// file events backend, file locks, every state directory private, no
// network (a new network namespace with only lo, no CNI), and rlimits no
// higher than podman's own hard limits (see podmanRlimits).
const podmanConf = `[containers]
default_ulimits = ["nofile=%[3]d:%[3]d", "nproc=%[4]d:%[4]d"]
netns = "none"

[network]
network_config_dir = "%[1]s/cni"

[engine]
runtime = "hako"
runtime_supports_json = ["crun", "runc", "hako"]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "%[1]s/events.log"
lock_type = "file"
tmp_dir = "%[1]s/tmp"
static_dir = "%[1]s/storage/libpod"
volume_path = "%[1]s/storage/volumes"

[engine.runtimes]
hako = ["%[2]s"]
`

const podmanStorageConf = `[storage]
driver = "overlay"
graphroot = "%[1]s/storage"
runroot = "%[1]s/run"
`

// podman is a podman CLI with a private configuration and storage.
type podman struct {
	dir, cgroupParent string
	podman            tool
}

func newPodman(t *testing.T) *podman {
	t.Helper()
	dir, err := os.MkdirTemp("", "hako-podman-")
	if err != nil {
		t.Fatal(err)
	}
	nofile, nproc := podmanRlimits()
	for name, text := range map[string]string{
		"containers.conf": fmt.Sprintf(podmanConf, dir, *hakoBin, nofile, nproc),
		"storage.conf":    fmt.Sprintf(podmanStorageConf, dir),
		"registries.conf": "",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := &podman{dir: dir, cgroupParent: uniq("hako-e2e-podman-")}
	p.podman = tool{t: t, name: "podman",
		args: []string{"--root", dir + "/storage", "--runroot", dir + "/run", "--runtime", *hakoBin,
			"--cgroup-manager", "cgroupfs", "--events-backend", "file"},
		env: []string{"CONTAINERS_CONF=" + dir + "/containers.conf", "CONTAINERS_STORAGE_CONF=" + dir + "/storage.conf",
			"CONTAINERS_REGISTRIES_CONF=" + dir + "/registries.conf"}}
	left := &leftovers{
		marks: []string{dir},
		// the containers' cgroups; podman's cgroupfs manager also puts every
		// conmon in PARENT/conmon and leaves that by design.
		cgroups: []string{"/sys/fs/cgroup/*/" + p.cgroupParent + "/libpod-*"},
		parents: []string{"/sys/fs/cgroup/*/" + p.cgroupParent},
	}
	// containers/image keeps its blob info cache there whatever the
	// storage root.
	removeIfNew(t, "/var/lib/containers/cache/blob-info-cache-v1.boltdb", "/var/lib/containers/cache", "/var/lib/containers")
	t.Cleanup(func() {
		p.podman.run("rm", "--all", "--force")
		p.podman.run("system", "reset", "--force")
		left.check(t)
		os.RemoveAll(dir)
	})
	p.podman.ok("load", "-i", imageTar)
	return p
}

// confOnly is the podman CLI without --runtime: hako comes from
// containers.conf alone.
func (p *podman) confOnly() tool {
	c := p.podman
	c.args = slices.Clone(c.args)
	i := slices.Index(c.args, "--runtime")
	c.args = slices.Delete(c.args, i, i+2)
	return c
}

// podmanRlimits are the highest RLIMIT_NOFILE and RLIMIT_NPROC a container
// can get from podman on a host that withholds CAP_SYS_RESOURCE: podman's
// defaults (1048576) are above the hard limits there, and raising a hard
// limit needs that capability (runc and crun fail the same way). Podman 4.3
// also lowers its own RLIMIT_NPROC, and so conmon's and the runtime's, to
// /proc/sys/kernel/pid_max at start, so nproc can be no higher than that.
func podmanRlimits() (nofile, nproc uint64) {
	var nf, np unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &nf)
	unix.Getrlimit(unix.RLIMIT_NPROC, &np)
	nproc = np.Max
	if pidMax, err := strconv.ParseUint(strings.TrimSpace(readFile("/proc/sys/kernel/pid_max")), 10, 64); err == nil && pidMax < nproc {
		nproc = pidMax
	}
	return nf.Max, nproc
}

// runArgs are `podman run` flags: never pull (the image is loaded; there
// is no registry), the test's cgroup parent, then flags.
func (p *podman) runArgs(flags ...string) []string {
	return append([]string{"run", "--pull", "never", "--cgroup-parent", "/" + p.cgroupParent}, flags...)
}

func TestPodman(t *testing.T) {
	needRoot(t)
	t.Parallel()
	p := newPodman(t)
	if out := p.confOnly().ok("info", "--format", "{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}").out; out != "hako "+*hakoBin+"\n" {
		t.Errorf("podman info without --runtime names runtime %q, want hako %s (from containers.conf)", out, *hakoBin)
	}
	for _, tc := range []struct {
		name string
		f    func(*testing.T, *podman)
	}{
		{"foreground", podmanForeground},
		{"tty", podmanTTY},
		{"detached", podmanDetached},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := *p
			p.podman.t = t
			tc.f(t, &p)
		})
	}
}

// podmanForeground: with hako from containers.conf alone, output and exit
// status through conmon, the rlimits from containers.conf, and no fd beyond
// stdio.
func podmanForeground(t *testing.T, p *podman) {
	nofile, nproc := podmanRlimits()
	r := p.confOnly().run(p.runArgs("--rm", imageRef, "sh", "-c", "echo hello from $(cat /proc/1/comm); ulimit -Hn; ulimit -Hu; ls /proc/self/fd; exit 3")...)
	if r.code != 3 {
		t.Errorf("podman run exited %d, want 3: %s", r.code, r)
	}
	wantOut(t, "podman run", r.out, fmt.Sprintf("hello from sh\n%d\n%d\n", nofile, nproc))
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if fds := strings.Join(lines[min(3, len(lines)):], " "); fds != "0 1 2 3" {
		t.Errorf("container has fds %q, want only stdio and ls's own (0 1 2 3)", fds)
	}
}

// podmanTTY: `podman run -it` through a pty (conmon gets the master from
// hako over --console-socket).
func podmanTTY(t *testing.T, p *podman) {
	pp := startPty(t, p.podman.env, p.podman.name, append(p.podman.args, p.runArgs("--rm", "-it", imageRef, "sh")...)...)
	pp.expect("# ")
	pp.send("echo tty-$((6*7)); tty; exit 3\r")
	code, out := pp.wait()
	if code != 3 {
		t.Errorf("podman run -it exited %d, want 3", code)
	}
	wantOut(t, "podman run -it", out, "tty-42", "/dev/pts/0")
}

func (p *podman) inspect(name, format string) string {
	p.podman.t.Helper()
	return strings.TrimSpace(p.podman.ok("inspect", "-f", format, name).out)
}

// podmanDetached: run -d, exec with and without -it, pause/unpause,
// update --memory, stop.
func podmanDetached(t *testing.T, p *podman) {
	name := uniq("hako-e2e-")
	p.podman.ok(p.runArgs("-d", "--name", name, imageRef, "sh", "-c", waiter)...)
	t.Cleanup(func() { p.podman.run("rm", "-f", name) })
	id := p.inspect(name, "{{.Id}}")
	cg := func(ctrl, file string) string {
		return strings.TrimSpace(readFile(filepath.Join("/sys/fs/cgroup", ctrl, p.cgroupParent, "libpod-"+id, file)))
	}
	if s := p.inspect(name, "{{.State.Status}}"); s != "running" {
		t.Fatalf("status %q, want running", s)
	}

	r := p.podman.run("exec", name, "sh", "-c", "echo exec in $(cat /proc/1/comm); exit 4")
	if r.code != 4 || r.out != "exec in sh\n" {
		t.Errorf("podman exec: want exit 4 and %q: %s", "exec in sh\n", r)
	}
	pp := startPty(t, p.podman.env, p.podman.name, append(p.podman.args, "exec", "-it", name, "sh")...)
	pp.expect("# ")
	pp.send("echo exec-tty-$((6*7)); tty; exit 5\r")
	if code, out := pp.wait(); code != 5 || !strings.Contains(out, "exec-tty-42") || !strings.Contains(out, "/dev/pts/") {
		t.Errorf("podman exec -it: exit %d, want 5, and exec-tty-42 and a /dev/pts/ name", code)
	}

	p.podman.ok("pause", name)
	if s, f := p.inspect(name, "{{.State.Status}}"), cg("freezer", "freezer.state"); s != "paused" || f != "FROZEN" {
		t.Errorf("after pause: status %q, freezer %q; want paused, FROZEN", s, f)
	}
	p.podman.ok("unpause", name)
	if s, f := p.inspect(name, "{{.State.Status}}"), cg("freezer", "freezer.state"); s != "running" || f != "THAWED" {
		t.Errorf("after unpause: status %q, freezer %q; want running, THAWED", s, f)
	}

	p.podman.ok("update", "--memory", "64m", name)
	if v := cg("memory", "memory.limit_in_bytes"); v != "67108864" {
		t.Errorf("after update --memory 64m: memory.limit_in_bytes is %q, want 67108864", v)
	}

	p.podman.ok("stop", "-t", "10", name)
	if s, c := p.inspect(name, "{{.State.Status}}"), p.inspect(name, "{{.State.ExitCode}}"); s != "exited" || c != "7" {
		t.Errorf("after stop: status %q, exit code %s; want exited, 7 (the trap's exit on SIGTERM)", s, c)
	}
	p.podman.ok("rm", name)
	// podman passes no --root: hako keeps its state in its default root.
	if _, err := os.Stat("/run/hako/" + id); err == nil {
		t.Errorf("leftover: hako's state dir /run/hako/%s after podman rm", id)
	}
}
