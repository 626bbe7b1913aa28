package systemd

// Docker, podman and containerd's CRI at their defaults on this systemd +
// cgroup v2 host (the systemd cgroup driver), with hako named as the
// runtime and nothing else changed.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hako/tests/internal/busyboximage"
)

// useHakoInDocker adds hako to Docker's runtimes (the only change to
// Docker's configuration) and restarts it; the cleanup restores it.
func useHakoInDocker(t *testing.T) {
	t.Helper()
	const conf = "/etc/docker/daemon.json"
	old, err := os.ReadFile(conf)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`{"runtimes": {"hako": {"path": %q}}}`, *hakoBin)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if old == nil {
			os.Remove(conf)
		} else {
			os.WriteFile(conf, old, 0o644)
		}
		try("systemctl", "restart", "docker")
	})
	run(t, "systemctl", "restart", "docker")
	loadImage(t, docker)
}

// scopeOf is the cgroup of pid, from the host's view.
func scopeOf(t *testing.T, pid string) string {
	t.Helper()
	return strings.TrimPrefix(readFile(t, "/proc/"+pid+"/cgroup"), "0::")
}

// checkScope checks that pid is in unit, under slice, and that systemd's
// properties and the kernel's files both hold the limits.
func checkScope(t *testing.T, pid, slice, unit string, props, files map[string]string) {
	t.Helper()
	want := "/" + slice + "/" + unit
	if got := scopeOf(t, pid); got != want {
		t.Errorf("container pid %s is in %s, want %s", pid, got, want)
	}
	var names []string
	for k := range props {
		names = append(names, k)
	}
	got := unitProps(t, unit, names...)
	for k, v := range props {
		if got[k] != v {
			t.Errorf("systemctl show %s: %s=%q, want %q", unit, k, got[k], v)
		}
	}
	for f, v := range files {
		if b := readFile(t, filepath.Join("/sys/fs/cgroup", slice, unit, f)); b != v {
			t.Errorf("%s of %s = %q, want %q", f, unit, b, v)
		}
	}
}

// ttyRun runs args on a pseudo-terminal (script(1)), as `-it` needs.
func ttyRun(args ...string) result {
	return try("script", "-qec", strings.Join(args, " "), "/dev/null")
}

func TestDockerDefaults(t *testing.T) {
	useHakoInDocker(t)
	var info struct{ CgroupDriver, CgroupVersion string }
	json.Unmarshal([]byte(run(t, "docker", "info", "--format", "{{json .}}")), &info)
	if info.CgroupDriver != "systemd" || info.CgroupVersion != "2" {
		t.Fatalf("docker info: driver %q version %q, want systemd 2 (Docker's default here)", info.CgroupDriver, info.CgroupVersion)
	}
	name := newID(t)
	t.Cleanup(func() { try("docker", "rm", "-f", name) })
	id := run(t, "docker", "run", "-d", "--runtime", "hako", "--name", name, "--memory", "64m", "--cpus", "0.5",
		"--pids-limit", "50", imageRef, "sleep", "300")
	pid := run(t, "docker", "inspect", "-f", "{{.State.Pid}}", id)
	unit := "docker-" + id + ".scope"
	checkScope(t, pid, "system.slice", unit,
		map[string]string{"MemoryMax": "67108864", "CPUQuotaPerSecUSec": "500ms", "TasksMax": "50", "Delegate": "yes"},
		map[string]string{"memory.max": "67108864", "cpu.max": "50000 100000", "pids.max": "50"})
	if aa := readFile(t, "/proc/"+pid+"/attr/current"); aa != "docker-default (enforce)" {
		t.Errorf("AppArmor of the container's PID 1: %q, want docker-default (enforce)", aa)
	}
	if out := run(t, "docker", "exec", name, "sh", "-c", "echo exec in $(cat /proc/self/cgroup)"); out != "exec in 0::/" {
		t.Errorf("docker exec: %q", out)
	}
	if r := ttyRun("docker", "exec", "-it", name, "sh", "-c", "'tty; exit 4'"); r.code != 4 || !strings.Contains(r.stdout, "/dev/pts/") {
		t.Errorf("docker exec -it: want a pts and exit 4: %s", r)
	}
	run(t, "docker", "update", "--memory", "128m", "--memory-swap", "256m", "--cpus", "1.5", name)
	checkScope(t, pid, "system.slice", unit,
		map[string]string{"MemoryMax": "134217728", "MemorySwapMax": "134217728", "CPUQuotaPerSecUSec": "1.500000s"},
		map[string]string{"memory.max": "134217728", "memory.swap.max": "134217728", "cpu.max": "150000 100000"})
	run(t, "docker", "pause", name)
	if st := run(t, "docker", "inspect", "-f", "{{.State.Status}}", name); st != "paused" || readFile(t, "/sys/fs/cgroup/system.slice/"+unit+"/cgroup.freeze") != "1" {
		t.Errorf("docker pause: status %s", st)
	}
	run(t, "docker", "unpause", name)
	run(t, "docker", "stop", "-t", "2", name)
	unitGone(t, unit, "/sys/fs/cgroup/system.slice/"+unit)
	run(t, "docker", "restart", "-t", "2", name)
	pid = run(t, "docker", "inspect", "-f", "{{.State.Pid}}", id)
	checkScope(t, pid, "system.slice", unit, map[string]string{"ActiveState": "active"}, nil)
	run(t, "docker", "kill", name)
	if code := run(t, "docker", "inspect", "-f", "{{.State.ExitCode}}", name); code != "137" {
		t.Errorf("after docker kill: exit code %s, want 137", code)
	}
	run(t, "docker", "rm", name)
	unitGone(t, unit, "/sys/fs/cgroup/system.slice/"+unit)

	r := try("docker", "run", "--rm", "--runtime", "hako", imageRef, "sh", "-c", "exit 7")
	if r.code != 7 {
		t.Errorf("exit status: want 7: %s", r)
	}
	if out := run(t, "docker", "run", "--rm", "--runtime", "hako", "--init", imageRef, "cat", "/proc/1/cmdline"); !strings.Contains(out, "docker-init") {
		t.Errorf("--init: PID 1 is %q, want docker-init", out)
	}
	if r := ttyRun("docker", "run", "--rm", "-it", "--runtime", "hako", imageRef, "sh", "-c", "'tty; exit 3'"); r.code != 3 || !strings.Contains(r.stdout, "/dev/pts/0") {
		t.Errorf("docker run -it: want /dev/pts/0 and exit 3: %s", r)
	}
}

func TestPodmanDefaults(t *testing.T) {
	loadImage(t, podman)
	if m := run(t, "podman", "info", "--format", "{{.Host.CgroupManager}} {{.Host.CgroupsVersion}}"); m != "systemd v2" {
		t.Fatalf("podman info: %q, want systemd v2 (podman's default here)", m)
	}
	p := func(args ...string) []string { return append([]string{"podman", "--runtime", *hakoBin}, args...) }
	name := newID(t)
	t.Cleanup(func() { try(p("rm", "-f", name)...) })
	id := run(t, p("run", "-d", "--name", name, "--memory", "64m", "--cpus", "0.5", "--pids-limit", "50", imageRef, "sleep", "300")...)
	pid := run(t, "podman", "inspect", "-f", "{{.State.Pid}}", id)
	unit := "libpod-" + id + ".scope"
	checkScope(t, pid, "machine.slice", unit,
		map[string]string{"MemoryMax": "67108864", "CPUQuotaPerSecUSec": "500ms", "TasksMax": "50"},
		map[string]string{"memory.max": "67108864", "cpu.max": "50000 100000", "pids.max": "50"})
	if out := run(t, p("exec", name, "sh", "-c", "echo exec ok")...); out != "exec ok" {
		t.Errorf("podman exec: %q", out)
	}
	if r := ttyRun(p("exec", "-it", name, "sh", "-c", "'tty; exit 4'")...); r.code != 4 || !strings.Contains(r.stdout, "/dev/pts/") {
		t.Errorf("podman exec -it: %s", r)
	}
	run(t, p("update", "--memory", "128m", name)...)
	checkScope(t, pid, "machine.slice", unit, map[string]string{"MemoryMax": "134217728"}, map[string]string{"memory.max": "134217728"})
	run(t, p("pause", name)...)
	if readFile(t, "/sys/fs/cgroup/machine.slice/"+unit+"/cgroup.freeze") != "1" {
		t.Error("podman pause: cgroup not frozen")
	}
	run(t, p("unpause", name)...)
	run(t, p("stop", "-t", "2", name)...)
	run(t, p("restart", "-t", "2", name)...)
	pid = run(t, "podman", "inspect", "-f", "{{.State.Pid}}", id)
	checkScope(t, pid, "machine.slice", unit, map[string]string{"ActiveState": "active"}, nil)
	run(t, p("kill", name)...)
	run(t, p("rm", name)...)
	unitGone(t, unit, "/sys/fs/cgroup/machine.slice/"+unit)
	if r := try(p("run", "--rm", imageRef, "sh", "-c", "exit 7")...); r.code != 7 {
		t.Errorf("exit status: want 7: %s", r)
	}
	if out := run(t, p("run", "--rm", "--init", imageRef, "cat", "/proc/1/cmdline")...); !strings.Contains(out, "podman-init") && !strings.Contains(out, "catatonit") {
		t.Errorf("--init: PID 1 is %q, want podman-init (catatonit)", out)
	}
}

// criConfig is containerd's CRI with the Kubernetes configuration
// (SystemdCgroup = true) and hako as runtime handler "hako".
const criConfig = `version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "%[2]s"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = true
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hako]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hako.options]
        BinaryName = "%[1]s"
        SystemdCgroup = true
`

const pauseRef = "docker.io/hako-sysvm/pause:latest"

func TestCRISystemd(t *testing.T) {
	crictl, err := findCrictl()
	if err != nil {
		t.Fatal(err)
	}
	const conf = "/etc/containerd/config.toml"
	old, _ := os.ReadFile(conf)
	os.MkdirAll(filepath.Dir(conf), 0o755)
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(criConfig, *hakoBin, pauseRef)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if old == nil {
			os.Remove(conf)
		} else {
			os.WriteFile(conf, old, 0o644)
		}
		try("systemctl", "restart", "containerd")
	})
	run(t, "systemctl", "restart", "containerd")
	pause := filepath.Join(t.TempDir(), "pause.tar")
	if err := busyboximage.WriteArchive(pause, busybox, busyboximage.Image{Ref: pauseRef, Cmd: []string{"sleep", "86400"}}); err != nil {
		t.Fatal(err)
	}
	run(t, "ctr", "-n", "k8s.io", "images", "import", pause)
	run(t, "ctr", "-n", "k8s.io", "images", "import", imageTar)
	cri := func(args ...string) []string {
		return append([]string{crictl, "--runtime-endpoint", "unix:///run/containerd/containerd.sock", "--timeout", "60s"}, args...)
	}
	dir := t.TempDir()
	uid := strings.TrimPrefix(newID(t), "sysvm-")
	podSlice := "kubepods-besteffort-pod" + uid + ".slice"
	t.Cleanup(func() { try("systemctl", "stop", podSlice) })
	pod := writeJSON(t, dir+"/pod.json", map[string]any{
		"metadata":      map[string]any{"name": "hako-pod", "namespace": "default", "uid": uid, "attempt": 1},
		"log_directory": dir + "/logs",
		"linux": map[string]any{
			"cgroup_parent":    podSlice,
			"security_context": map[string]any{"namespace_options": map[string]any{"network": 2}},
		},
	})
	ctr := writeJSON(t, dir+"/ctr.json", map[string]any{
		"metadata": map[string]any{"name": "c1"},
		"image":    map[string]any{"image": imageRef},
		"command":  []string{"sh", "-c", "echo hello from cri; exec sleep 300"},
		"log_path": "c1.log",
		"linux":    map[string]any{"resources": map[string]any{"memory_limit_in_bytes": 64 << 20, "cpu_quota": 20000, "cpu_period": 100000}},
	})
	podID := run(t, cri("runp", "--runtime", "hako", pod)...)
	t.Cleanup(func() { try(cri("stopp", podID)...); try(cri("rmp", podID)...) })
	cid := run(t, cri("create", podID, ctr, pod)...)
	run(t, cri("start", cid)...)
	var insp struct {
		Info struct{ Pid int }
	}
	json.Unmarshal([]byte(run(t, cri("inspect", cid)...)), &insp)
	pid := fmt.Sprint(insp.Info.Pid)
	unit := "cri-containerd-" + cid + ".scope"
	slice := "kubepods.slice/kubepods-besteffort.slice/" + podSlice
	checkScope(t, pid, slice, unit, map[string]string{"MemoryMax": "67108864", "CPUQuotaPerSecUSec": "200ms"},
		map[string]string{"memory.max": "67108864", "cpu.max": "20000 100000"})
	if out := run(t, cri("exec", "--sync", cid, "sh", "-c", "echo probe ok")...); out != "probe ok" {
		t.Errorf("crictl exec --sync: %q", out)
	}
	waitFor(t, "the container's log line", 20*time.Second, func() bool {
		return strings.Contains(try(cri("logs", cid)...).stdout, "hello from cri")
	})
	run(t, cri("stop", "--timeout", "5", cid)...)
	run(t, cri("rm", cid)...)
	unitGone(t, unit, "/sys/fs/cgroup/"+slice+"/"+unit)
	run(t, cri("stopp", podID)...)
	run(t, cri("rmp", podID)...)
}

func writeJSON(t *testing.T, path string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// findCrictl: the image has crictl (built from the Go module proxy).
func findCrictl() (string, error) {
	for _, p := range []string{"/usr/local/bin/crictl", "/opt/hako-test/crictl"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("crictl is not in the VM image (scripts/sysvm builds it in)")
}
