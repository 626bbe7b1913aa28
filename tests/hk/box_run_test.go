package hk

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The seeds' flow: an exported rootfs imported, run with a hostname and a
// memory and CPU limit, checked from inside; --rm leaves nothing.
func TestBoxSeedsFlow(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	img := boxImage(t, h, "seed:1")
	r := h.ok("run", "--rm", "--hostname", "seedbox", "-m", "64m", "--cpus", "0.5", "--pids-limit", "50", img,
		"sh", "-c", "hostname; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/pids/pids.max; echo $FROM_IMAGE; echo $$; ip link 2>/dev/null | grep -c mtu")
	// Links: lo and eth0 (the default bridge network, as root).
	want := "seedbox\n67108864\n50000\n100000\n50\nyes\n1\n2\n"
	if r.out != want {
		t.Errorf("inside: got %q, want %q", r.out, want)
	}
	boxNothingLeft(t, h, "")
}

// Exit codes as Docker's: the container's own, 127 for a program not
// found, 126 for one that cannot be run, 125 for hk's own errors.
func TestBoxExitCodes(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	img := boxImage(t, h, "codes")
	parent := boxCgroupParent(t)
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"sh", "-c", "exit 7"}, 7, ""},
		{[]string{"sh", "-c", "sleep 5 & kill -9 $!; wait $!"}, 137, ""},
		{[]string{"/nonexistent"}, 127, "nonexistent"},
		{[]string{"/etc/passwd"}, 126, "passwd"},
		{[]string{"true"}, 0, ""},
	} {
		r := h.run(append([]string{"run", "--rm", "--cgroup-parent", parent, img}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.err, tc.err) {
			t.Errorf("run %q: %s; want exit %d with %q", tc.args, r, tc.code, tc.err)
		}
	}
	// stdout and stderr stay apart, and -i passes stdin.
	r := h.runIn([]byte("from stdin\n"), "run", "--rm", "-i", img, "sh", "-c", "cat; echo to-err >&2")
	if r.out != "from stdin\n" || r.err != "to-err\n" {
		t.Errorf("-i: %s", r)
	}
	boxNothingLeft(t, h, parent)
}

// The spec from the image and the flags: env (image, -e, --env-file),
// user by name, workdir (created), entrypoint rules, caps, read-only,
// volumes, tmpfs, no-new-privileges, ulimits.
func TestBoxRunFlags(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	h.ok("import", "--change", `ENTRYPOINT ["echo", "ep"]`, "--change", `CMD ["default"]`, "--change", "USER nobody",
		"--change", "WORKDIR /srv/app", imgWrite(t, imgRootfsTar(t)), "flags")
	if r := h.ok("run", "--rm", "flags"); r.out != "ep default\n" {
		t.Errorf("entrypoint+cmd: %q", r.out)
	}
	if r := h.ok("run", "--rm", "flags", "x", "y"); r.out != "ep x y\n" {
		t.Errorf("args replace cmd: %q", r.out)
	}
	envFile := imgWrite(t, []byte("# comment\nFROM_FILE=f\nBOTH=file\n"))
	vol := t.TempDir()
	os.WriteFile(vol+"/hello", []byte("from host\n"), 0o644)
	script := `id -u; id -g; pwd; echo $FROM_FILE $BOTH $FROM_HOST; cat /data/hello; touch /data/x 2>/dev/null || echo ro-vol;
touch /rootfile 2>/dev/null || echo ro-root; touch /scratch/ok && echo tmpfs-ok; ulimit -n; grep NoNewPrivs /proc/self/status; grep CapBnd /proc/self/status`
	h.env = []string{"FROM_HOST=h"}
	r := h.run("run", "--rm", "--entrypoint", "sh", "-u", "0:0", "-w", "/work/dir", "--env-file", envFile, "-e", "BOTH=flag",
		"-e", "FROM_HOST", "-v", vol+":/data:ro", "--read-only", "--tmpfs", "/scratch", "--ulimit", "nofile=100:200",
		"--security-opt", "no-new-privileges", "--cap-drop", "ALL", "--cap-add", "CHOWN", "flags", "-c", script)
	want := "0\n0\n/work/dir\nf flag h\nfrom host\nro-vol\nro-root\ntmpfs-ok\n100\nNoNewPrivs:\t1\nCapBnd:\t0000000000000001\n"
	if r.code != 0 || r.out != want {
		t.Errorf("flags: got %q, want %q\n%s", r.out, want, r)
	}
	if r := h.ok("run", "--rm", "--entrypoint", "id", "flags"); !strings.HasPrefix(r.out, "uid=65534(nobody)") {
		t.Errorf("image USER nobody: %q", r.out)
	}
	// Docker's default capabilities and seccomp profile: mount is denied
	// even to root in the container.
	r = h.run("run", "--rm", "-u", "0", "--entrypoint", "sh", "flags", "-c", "grep CapEff /proc/self/status; grep Seccomp: /proc/self/status")
	if r.out != "CapEff:\t00000000a80425fb\nSeccomp:\t2\n" {
		t.Errorf("default caps/seccomp: %s", r)
	}
	// --network host: the host's links and resolv.conf; none: only lo
	// and no name server.
	hostNet, _ := os.Readlink("/proc/self/ns/net")
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	r = h.run("run", "--rm", "--network", "host", "--entrypoint", "sh", "flags", "-c", "readlink /proc/self/ns/net; cat /etc/resolv.conf")
	if want := hostNet + "\n" + string(hostResolv); r.out != want {
		t.Errorf("--network host: got %q, want %q", r.out, want)
	}
	if r := h.run("run", "--rm", "--network", "none", "--entrypoint", "sh", "flags", "-c", "ip -o link | wc -l; grep -c nameserver /etc/resolv.conf"); r.out != "1\n0\n" {
		t.Errorf("--network none: %s", r)
	}
	// --device: the node, and the device cgroup lets it be used.
	if r := h.run("run", "--rm", "-u", "0", "--device", "/dev/zero:/dev/myzero:rw", "--entrypoint", "sh", "flags", "-c",
		"stat -c '%t %T %F' /dev/myzero; head -c 3 /dev/myzero | wc -c"); r.code != 0 || r.out != "1 5 character special file\n3\n" {
		t.Errorf("--device: %s", r)
	}
	// --init: catatonit is PID 1, the command its child, the status passed on.
	if r := h.run("run", "--rm", "--init", "--read-only", "--entrypoint", "sh", "flags", "-c", "echo $$; cat /proc/1/comm; exit 5"); r.code != 5 || r.out != "2\ninit\n" {
		t.Errorf("--init: %s", r)
	}
	if r := h.run("run", "--rm", "--security-opt", "seccomp=unconfined", "--entrypoint", "grep", "flags", "Seccomp:", "/proc/self/status"); r.out != "Seccomp:\t0\n" {
		t.Errorf("seccomp=unconfined: %s", r)
	}
	boxNothingLeft(t, h, "")
}

// Twenty runs at once: every one succeeds with its own output, and the
// store keeps every record straight.
func TestBoxConcurrentRuns(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	img := boxImage(t, h, "many")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := h.run("run", "--rm", "--name", fmt.Sprint("c", i), img, "echo", fmt.Sprint("n", i))
			if r.code != 0 || r.out != fmt.Sprintf("n%d\n", i) {
				t.Errorf("run %d: %s", i, r)
			}
		}()
	}
	wg.Wait()
	// Five starts of one container at once: one runs it, the others find
	// it running (the container's lock), so there is one monitor.
	h.ok("create", "--name", "once", img, "sleep", "30")
	for range 5 {
		wg.Add(1)
		go func() { defer wg.Done(); h.ok("start", "once") }()
	}
	wg.Wait()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	monitors := 0
	for _, p := range procs {
		if b, _ := os.ReadFile(p); strings.HasPrefix(string(b), "hako-mon\x00") && strings.Contains(string(b), h.root+"/") {
			monitors++
		}
	}
	if monitors != 1 {
		t.Errorf("%d monitors after five concurrent starts, want 1", monitors)
	}
	h.ok("rm", "-f", "once")
	boxNothingLeft(t, h, "")
}
