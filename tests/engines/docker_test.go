package engines

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// dockerd is one private Docker 20.10 daemon and a docker CLI bound to it.
type dockerd struct {
	dir, cgroupParent string
	docker            tool
}

// startDockerd starts dockerd with its data root, exec root, socket, pid
// file and daemon.json in a fresh directory, hako registered as runtime
// "hako" through daemon.json (the recipe in docs/engines.md), the cgroupfs
// driver under a cgroup parent of its own, and loads the test image.
//
// dockerd runs in a network namespace of its own: its default bridge, the
// containers' veth pairs and every iptables rule it adds live and die with
// that namespace, so the host's network is never touched. The containers
// still get the networking Docker gives everywhere, set up by the
// libnetwork-setkey prestart hook Docker puts in every config.json.
func startDockerd(t *testing.T) *dockerd {
	t.Helper()
	dir, err := os.MkdirTemp("", "hako-docker-")
	if err != nil {
		t.Fatal(err)
	}
	d := &dockerd{dir: dir, cgroupParent: uniq("hako-e2e-docker-")}
	conf, _ := json.MarshalIndent(map[string]any{
		"runtimes":       map[string]any{"hako": map[string]any{"path": *hakoBin}},
		"exec-opts":      []string{"native.cgroupdriver=cgroupfs"},
		"cgroup-parent":  "/" + d.cgroupParent,
		"data-root":      dir + "/data",
		"exec-root":      dir + "/exec",
		"pidfile":        dir + "/docker.pid",
		"hosts":          []string{"unix://" + dir + "/docker.sock"},
		"storage-driver": "overlay2",
		// dockerd 20.10 writes its (deprecated) trust key to
		// /etc/docker/key.json unless told otherwise.
		"deprecated-key-path": dir + "/key.json",
	}, "", "  ")
	if err := os.WriteFile(dir+"/daemon.json", conf, 0o644); err != nil {
		t.Fatal(err)
	}
	left := &leftovers{
		marks:   []string{dir},
		cgroups: []string{"/sys/fs/cgroup/*/" + d.cgroupParent + "/*"},
		parents: []string{"/sys/fs/cgroup/*/" + d.cgroupParent},
	}
	t.Cleanup(func() {
		left.check(t)
		os.RemoveAll(dir)
	})
	// dockerd makes /run/docker/plugins whatever its exec root.
	removeIfNew(t, "/run/docker/plugins", "/run/docker")
	cmd := exec.Command("dockerd", "--config-file", dir+"/daemon.json")
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	daemon := startDaemon(t, dir+"/dockerd.log", cmd)
	daemon.waitSocket(t, dir+"/docker.sock")
	d.docker = tool{t: t, name: "/usr/bin/docker", args: []string{"-H", "unix://" + dir + "/docker.sock"}, env: []string{"DOCKER_CONFIG=" + dir + "/cli"}}
	waitFor(t, "dockerd to answer", func() (bool, string) {
		r := d.docker.run("version")
		return r.code == 0, r.String()
	})
	d.docker.ok("load", "-i", imageTar)
	return d
}

func TestDocker(t *testing.T) {
	needRoot(t)
	t.Parallel()
	d := startDockerd(t)
	for _, tc := range []struct {
		name string
		f    func(*testing.T, *dockerd)
	}{
		{"foreground", dockerForeground},
		{"tty", dockerTTY},
		{"detached", dockerDetached},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := *d
			d.docker.t = t
			tc.f(t, &d)
		})
	}
}

// dockerForeground: exit status and output, the network Docker's prestart
// hook set up (eth0 with an address on Docker's bridge), the /etc files
// Docker bind-mounts, and no fd beyond stdio.
func dockerForeground(t *testing.T, d *dockerd) {
	r := d.docker.run("run", "--pull", "never", "--rm", "--runtime", "hako", "--hostname", "hako-box", imageRef, "sh", "-c",
		"echo hello from $(cat /proc/1/comm) on $(cat /etc/hostname); ip -o -4 addr show eth0; ls /proc/self/fd; exit 3")
	if r.code != 3 {
		t.Errorf("docker run exited %d, want 3: %s", r.code, r)
	}
	wantOut(t, "docker run", r.out, "hello from sh on hako-box\n", "eth0    inet 172.17.")
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if fds := strings.Join(lines[min(2, len(lines)):], " "); fds != "0 1 2 3" {
		t.Errorf("container has fds %q, want only stdio and ls's own (0 1 2 3)", fds)
	}
}

// dockerTTY: `docker run -it` through a pty.
func dockerTTY(t *testing.T, d *dockerd) {
	p := startPty(t, d.docker.env, d.docker.name, append(d.docker.args, "run", "--pull", "never", "--rm", "-it", "--runtime", "hako", imageRef, "sh")...)
	p.expect("# ")
	p.send("echo tty-$((6*7)); tty; exit 3\r")
	code, out := p.wait()
	if code != 3 {
		t.Errorf("docker run -it exited %d, want 3", code)
	}
	wantOut(t, "docker run -it", out, "tty-42", "/dev/pts/0")
}

// inspect is `docker inspect -f format name`, trimmed.
func (d *dockerd) inspect(name, format string) string {
	d.docker.t.Helper()
	return strings.TrimSpace(d.docker.ok("inspect", "-f", format, name).out)
}

// dockerDetached: run -d, exec with and without -it, update --memory
// (checked in the cgroup and from inside), pause/unpause (checked in the
// freezer), restart (a new init), stop (SIGTERM reaches the trap), kill.
func dockerDetached(t *testing.T, d *dockerd) {
	name := uniq("hako-e2e-")
	d.docker.ok("run", "--pull", "never", "-d", "--runtime", "hako", "--name", name, imageRef, "sh", "-c", waiter)
	t.Cleanup(func() { d.docker.run("rm", "-f", name) })
	id := d.inspect(name, "{{.Id}}")
	cg := func(ctrl, file string) string {
		return strings.TrimSpace(readFile(filepath.Join("/sys/fs/cgroup", ctrl, d.cgroupParent, id, file)))
	}
	if s := d.inspect(name, "{{.State.Status}}"); s != "running" {
		t.Fatalf("status %q, want running", s)
	}
	// The config.json Docker handed hako has its networking prestart hook:
	// the container's eth0 (dockerForeground) is the proof it ran.
	bundle := filepath.Join(d.dir, "exec/containerd/daemon/io.containerd.runtime.v2.task/moby", id, "config.json")
	var spec struct {
		Hooks struct{ Prestart []struct{ Args []string } }
	}
	json.Unmarshal([]byte(readFile(bundle)), &spec)
	if len(spec.Hooks.Prestart) == 0 || !strings.Contains(strings.Join(spec.Hooks.Prestart[0].Args, " "), "libnetwork-setkey") {
		t.Errorf("%s has no libnetwork-setkey prestart hook: %+v", bundle, spec.Hooks)
	}

	r := d.docker.run("exec", name, "sh", "-c", "echo exec in $(cat /proc/1/comm); exit 4")
	if r.code != 4 || r.out != "exec in sh\n" {
		t.Errorf("docker exec: want exit 4 and %q: %s", "exec in sh\n", r)
	}
	p := startPty(t, d.docker.env, d.docker.name, append(d.docker.args, "exec", "-it", name, "sh")...)
	p.expect("# ")
	p.send("echo exec-tty-$((6*7)); tty; exit 5\r")
	if code, out := p.wait(); code != 5 || !strings.Contains(out, "exec-tty-42") || !strings.Contains(out, "/dev/pts/") {
		t.Errorf("docker exec -it: exit %d, want 5, and exec-tty-42 and a /dev/pts/ name", code)
	}

	d.docker.ok("update", "--memory", "64m", "--memory-swap", "128m", name)
	if v := cg("memory", "memory.limit_in_bytes"); v != "67108864" {
		t.Errorf("after update --memory 64m: memory.limit_in_bytes is %q, want 67108864", v)
	}
	if v := d.docker.ok("exec", name, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes").out; strings.TrimSpace(v) != "67108864" {
		t.Errorf("after update --memory 64m: the container sees memory.limit_in_bytes %q, want 67108864", v)
	}
	if v := d.inspect(name, "{{.HostConfig.Memory}}"); v != "67108864" {
		t.Errorf("after update: docker inspect HostConfig.Memory is %s", v)
	}

	d.docker.ok("pause", name)
	if s, f := d.inspect(name, "{{.State.Status}}"), cg("freezer", "freezer.state"); s != "paused" || f != "FROZEN" {
		t.Errorf("after pause: status %q, freezer %q; want paused, FROZEN", s, f)
	}
	d.docker.ok("unpause", name)
	if s, f := d.inspect(name, "{{.State.Status}}"), cg("freezer", "freezer.state"); s != "running" || f != "THAWED" {
		t.Errorf("after unpause: status %q, freezer %q; want running, THAWED", s, f)
	}

	pid := d.inspect(name, "{{.State.Pid}}")
	d.docker.ok("restart", "-t", "10", name)
	if s, p := d.inspect(name, "{{.State.Status}}"), d.inspect(name, "{{.State.Pid}}"); s != "running" || p == pid || p == "0" {
		t.Errorf("after restart: status %q, pid %s (was %s); want running with a new pid", s, p, pid)
	}

	d.docker.ok("stop", "-t", "10", name)
	if s, c := d.inspect(name, "{{.State.Status}}"), d.inspect(name, "{{.State.ExitCode}}"); s != "exited" || c != "7" {
		t.Errorf("after stop: status %q, exit code %s; want exited, 7 (the trap's exit on SIGTERM)", s, c)
	}
	d.docker.ok("start", name)
	d.docker.ok("kill", name)
	waitFor(t, "the container to exit after docker kill", func() (bool, string) {
		s := d.inspect(name, "{{.State.Status}}")
		return s == "exited", "status " + s
	})
	if c := d.inspect(name, "{{.State.ExitCode}}"); c != "137" {
		t.Errorf("after kill: exit code %s, want 137 (SIGKILL)", c)
	}
	d.docker.ok("rm", name)
	// dockerd 20.10 gives every runtime the root exec-root/runtime-runc.
	if m, _ := filepath.Glob(filepath.Join(d.dir, "exec/runtime-*/moby", id)); len(m) > 0 {
		t.Errorf("leftover: hako's state dir %s after docker rm", m)
	}
}
