package systemd

// Rootless engines at their defaults for a user with a systemd session:
// podman (cgroup_manager=systemd over the user's bus, slirp4netns) and
// Docker's rootless daemon (rootlesskit), each with hako as the runtime.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// userPath is where the user's systemd instance keeps its slices.
const userPath = "/user.slice/user-1500.slice/user@1500.service"

// userImage is the image archive, readable by the user.
func userImage(t *testing.T) string {
	t.Helper()
	if err := os.Chmod(imageTar, 0o644); err != nil {
		t.Fatal(err)
	}
	return imageTar
}

// inHome runs args as the user, from the user's home directory.
func inHome(args ...string) []string {
	return asUser(append([]string{"/usr/bin/env", "-C", "/home/" + user}, args...)...)
}

// userUnits lists the user's units matching pattern, all states.
func userUnits(t *testing.T, pattern string) string {
	t.Helper()
	return strings.TrimSpace(try("systemctl", "--user", "-M", user+"@", "list-units", "--all", "--plain", "--no-legend", pattern).stdout)
}

func userUnitProps(t *testing.T, unit string, names ...string) map[string]string {
	t.Helper()
	args := []string{"systemctl", "--user", "-M", user + "@", "show", unit}
	for _, n := range names {
		args = append(args, "-p", n)
	}
	out := map[string]string{}
	for _, l := range strings.Split(run(t, args...), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			out[k] = v
		}
	}
	return out
}

func TestRootlessPodmanDefaults(t *testing.T) {
	tar := userImage(t)
	p := func(args ...string) []string {
		return inHome(append([]string{"podman", "--runtime", *hakoBin}, args...)...)
	}
	run(t, inHome("podman", "load", "-q", "-i", tar)...)
	if m := run(t, inHome("podman", "info", "--format", "{{.Host.CgroupManager}} {{.Host.CgroupsVersion}} {{.Host.Security.Rootless}}")...); m != "systemd v2 true" {
		t.Fatalf("podman info as %s: %q, want systemd v2 true (podman's rootless default here)", user, m)
	}
	name := newID(t)
	t.Cleanup(func() {
		try(p("rm", "-f", "-t", "0", name)...)
		if u := userUnits(t, "libpod-*"); u != "" {
			t.Errorf("user units left: %s", u)
		}
		if r := try(inHome(*hakoBin, "--root", fmt.Sprintf("/run/user/%d/hako", userUID), "list", "-q")...); strings.TrimSpace(r.stdout) != "" {
			t.Errorf("hako state left: %s", r.stdout)
		}
	})
	if r := try(p("run", "--rm", imageRef, "sh", "-c", "id -u; exit 5")...); r.code != 5 || strings.TrimSpace(r.stdout) != "0" {
		t.Errorf("run --rm: want uid 0 inside and exit 5: %s", r)
	}
	// A published port through slirp4netns: busybox httpd in the
	// container, fetched on the VM's loopback.
	id := run(t, p("run", "-d", "--name", name, "--memory", "64m", "--cpus", "0.5", "--pids-limit", "40",
		"-p", "127.0.0.1:18080:8080", imageRef, "sh", "-c", "mkdir -p /www && echo served-by-hako > /www/index.html && exec httpd -f -p 8080 -h /www")...)
	pid := run(t, inHome("podman", "inspect", "-f", "{{.State.Pid}}", id)...)
	unit := "libpod-" + id + ".scope"
	if got := scopeOf(t, pid); got != userPath+"/user.slice/"+unit {
		t.Errorf("container pid %s in %s, want %s", pid, got, userPath+"/user.slice/"+unit)
	}
	props := userUnitProps(t, unit, "MemoryMax", "TasksMax", "CPUQuotaPerSecUSec", "Delegate")
	for k, v := range map[string]string{"MemoryMax": "67108864", "TasksMax": "40", "CPUQuotaPerSecUSec": "500ms", "Delegate": "yes"} {
		if props[k] != v {
			t.Errorf("systemctl --user show %s: %s=%q, want %q", unit, k, props[k], v)
		}
	}
	dir := "/sys/fs/cgroup" + userPath + "/user.slice/" + unit
	for f, v := range map[string]string{"memory.max": "67108864", "pids.max": "40", "cpu.max": "50000 100000"} {
		if got := readFile(t, filepath.Join(dir, f)); got != v {
			t.Errorf("%s = %q, want %q", f, got, v)
		}
	}
	var page string
	waitFor(t, "the published port", 30*time.Second, func() bool {
		page = strings.TrimSpace(try(busybox, "wget", "-qO-", "http://127.0.0.1:18080/").stdout)
		return page == "served-by-hako"
	})
	if out := run(t, p("exec", name, "sh", "-c", "echo exec as $(id -u)")...); out != "exec as 0" {
		t.Errorf("exec: %q", out)
	}
	if r := ttyRun(p("exec", "-it", name, "sh", "-c", "'tty; exit 4'")...); r.code != 4 || !strings.Contains(r.stdout, "/dev/pts/") {
		t.Errorf("exec -it: %s", r)
	}
	run(t, p("pause", name)...)
	if readFile(t, filepath.Join(dir, "cgroup.freeze")) != "1" {
		t.Error("pause: the scope is not frozen")
	}
	run(t, p("unpause", name)...)
	run(t, p("stop", "-t", "2", name)...)
	run(t, p("rm", name)...)
	waitFor(t, "the scope to go", 10*time.Second, func() bool { return userUnits(t, unit) == "" })
}

// TestRootlessDocker: Docker's rootless daemon (dockerd-rootless.sh with
// rootlesskit, as the user) with hako added as a runtime.
func TestRootlessDocker(t *testing.T) {
	script := "/usr/share/docker.io/contrib/dockerd-rootless.sh"
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("%s: %v (docker.io ships it)", script, err)
	}
	tar := userImage(t)
	sock := fmt.Sprintf("/run/user/%d/hako-test-docker.sock", userUID)
	svc := "hako-test-dockerd-" + strings.TrimPrefix(newID(t), "sysvm-")
	data := fmt.Sprintf("/home/%s/.local/share/hako-test-docker", user)
	run(t, "systemd-run", "--user", "--machine", user+"@", "--unit", svc, "--collect",
		"-E", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		script, "--host", "unix://"+sock, "--data-root", data, "--exec-root", fmt.Sprintf("/run/user/%d/hako-test-docker", userUID),
		"--pidfile", fmt.Sprintf("/run/user/%d/hako-test-docker.pid", userUID), "--add-runtime", "hako="+*hakoBin)
	t.Cleanup(func() {
		try("systemctl", "--user", "-M", user+"@", "stop", svc)
		try("rm", "-rf", data)
	})
	d := func(args ...string) []string {
		return inHome(append([]string{"docker", "--host", "unix://" + sock}, args...)...)
	}
	waitFor(t, "the rootless daemon", 120*time.Second, func() bool { return try(d("info")...).code == 0 })
	info := run(t, d("info", "--format", "{{.CgroupDriver}} {{.CgroupVersion}} {{.SecurityOptions}}")...)
	t.Logf("rootless docker: %s", info)
	if !strings.Contains(info, "rootless") {
		t.Errorf("docker info does not say rootless: %s", info)
	}
	run(t, d("load", "-q", "-i", tar)...)
	if r := try(d("run", "--rm", "--runtime", "hako", imageRef, "sh", "-c", "id -u; exit 6")...); r.code != 6 || strings.TrimSpace(r.stdout) != "0" {
		t.Errorf("run --rm: want uid 0 inside and exit 6: %s", r)
	}
	name := newID(t)
	run(t, d("run", "-d", "--runtime", "hako", "--name", name, "-p", "127.0.0.1:18081:8080", imageRef,
		"sh", "-c", "mkdir -p /www && echo docker-rootless-hako > /www/index.html && exec httpd -f -p 8080 -h /www")...)
	t.Cleanup(func() { try(d("rm", "-f", name)...) })
	waitFor(t, "the published port", 60*time.Second, func() bool {
		return strings.TrimSpace(try(busybox, "wget", "-qO-", "http://127.0.0.1:18081/").stdout) == "docker-rootless-hako"
	})
	if out := run(t, d("exec", name, "sh", "-c", "echo exec ok")...); out != "exec ok" {
		t.Errorf("exec: %q", out)
	}
	run(t, d("rm", "-f", name)...)
}
