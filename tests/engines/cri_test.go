package engines

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// criConfig enables containerd's CRI plugin (what the kubelet talks to)
// with hako as runtime handler "hako": the recipe in docs/engines.md, with
// a private runtime root and CNI directory, and the local pause image. A
// Kubernetes RuntimeClass with handler "hako" selects it; crictl's
// `runp --runtime hako` is what the kubelet then sends.
//
// restrict_oom_score_adj: the CRI plugin gives pod sandboxes
// oom_score_adj -998, and lowering oom_score_adj needs CAP_SYS_RESOURCE,
// which this host withholds even from root (runc and crun fail the same
// way); the option clamps it to containerd's own score.
const criConfig = `[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "%[3]s"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    conf_dir = "%[1]s/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hako]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hako.options]
      BinaryName = "%[2]s"
      Root = "%[1]s/runc"
`

// crictlBin is crictl from the Go module proxy (Debian 12 packages none),
// installed by scripts/engines/setup.sh where the Makefile keeps its tools.
var crictlBin, _ = filepath.Abs("../../.cache/tools/crictl")

// TestCRI runs a pod the way the kubelet does, through containerd's CRI
// plugin with runtime handler "hako": pod sandbox (host network: no CNI
// plugin needed), a container, ExecSync (exec probes) and a streamed exec
// (kubectl exec), logs, stop and removal.
func TestCRI(t *testing.T) {
	needRoot(t)
	t.Parallel()
	if _, err := os.Stat(crictlBin); err != nil {
		t.Fatalf("crictl: %v (scripts/engines/setup.sh installs it)", err)
	}
	dir, err := os.MkdirTemp("", "hako-cri-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := startContainerd(t, fmt.Sprintf(criConfig, dir, *hakoBin, pauseRef))
	k8s := tool{t: t, name: "ctr", args: []string{"--address", c.sock, "--namespace", "k8s.io"}}
	k8s.ok("images", "import", imageTar)
	cgroupParent := uniq("hako-e2e-cri-")
	left := &leftovers{
		marks:   []string{dir},
		cgroups: []string{"/sys/fs/cgroup/*/" + cgroupParent + "/*"},
		parents: []string{"/sys/fs/cgroup/*/" + cgroupParent},
	}
	t.Cleanup(func() { left.check(t) })

	endpoint := "unix://" + c.sock
	crictl := tool{t: t, name: crictlBin, args: []string{"--config", dir + "/crictl.yaml",
		"--runtime-endpoint", endpoint, "--image-endpoint", endpoint, "--timeout", "30s"}}
	os.WriteFile(dir+"/crictl.yaml", nil, 0o644)
	waitFor(t, "the CRI plugin to list the imported image", func() (bool, string) {
		r := crictl.run("images")
		return strings.Contains(r.out, "hako-e2e/busybox"), r.String()
	})

	pod := writeJSON(t, dir+"/pod.json", map[string]any{
		"metadata":      map[string]any{"name": "hako-pod", "namespace": "default", "uid": uniq("uid-"), "attempt": 1},
		"log_directory": dir + "/logs",
		"linux": map[string]any{
			"cgroup_parent":    "/" + cgroupParent,
			"security_context": map[string]any{"namespace_options": map[string]any{"network": 2}}, // NODE
		},
	})
	ctrJSON := writeJSON(t, dir+"/ctr.json", map[string]any{
		"metadata": map[string]any{"name": "c1"},
		"image":    map[string]any{"image": imageRef},
		"command":  []string{"sh", "-c", "echo hello from cri; " + waiter},
		"log_path": "c1.log",
	})
	podID := strings.TrimSpace(crictl.ok("runp", "--runtime", "hako", pod).out)
	t.Cleanup(func() {
		crictl.run("stopp", podID)
		crictl.run("rmp", podID)
	})
	cid := strings.TrimSpace(crictl.ok("create", podID, ctrJSON, pod).out)
	crictl.ok("start", cid)

	// The container is hako's: hako's own state for it, under the handler's Root.
	hako := tool{t: t, name: *hakoBin, args: []string{"--root", dir + "/runc/k8s.io"}}
	var st struct{ Status string }
	json.Unmarshal([]byte(hako.ok("state", cid).out), &st)
	if st.Status != "running" {
		t.Errorf("hako state %s: status %q, want running", cid, st.Status)
	}

	// The pod shares one PID namespace (the CRI default), which hako joins
	// by path: its pid 1 is the sandbox's pause process. crictl exits 1 for
	// any failed command and names its status.
	r := crictl.run("exec", "--sync", cid, "sh", "-c", "echo probe sees $(cat /proc/1/comm) as pid 1")
	if r.code != 0 || !strings.Contains(r.out, "probe sees sleep as pid 1\n") {
		t.Errorf("crictl exec --sync: want %q: %s", "probe sees sleep as pid 1", r)
	}
	if r = crictl.run("exec", "--sync", cid, "sh", "-c", "exit 4"); !strings.Contains(r.err, "exited with 4") {
		t.Errorf("crictl exec --sync: want exit 4 reported: %s", r)
	}
	r = crictl.run("exec", cid, "sh", "-c", "echo streamed exec; exit 5")
	if !strings.Contains(r.out, "streamed exec\n") || !strings.Contains(r.err, "exit code 5") {
		t.Errorf("crictl exec (streamed): want %q and exit code 5 reported: %s", "streamed exec\n", r)
	}
	waitFor(t, "the container's log line", func() (bool, string) {
		r := crictl.run("logs", cid)
		return strings.Contains(r.out, "hello from cri"), r.String()
	})

	crictl.ok("stop", "--timeout", "10", cid)
	var inspect struct {
		Status struct {
			State    string
			ExitCode int
		}
	}
	json.Unmarshal([]byte(crictl.ok("inspect", "--output", "json", cid).out), &inspect)
	if inspect.Status.State != "CONTAINER_EXITED" || inspect.Status.ExitCode != 7 {
		t.Errorf("after stop: state %s exit %d, want CONTAINER_EXITED 7 (the trap's exit on SIGTERM)", inspect.Status.State, inspect.Status.ExitCode)
	}
	crictl.ok("rm", cid)
	crictl.ok("stopp", podID)
	crictl.ok("rmp", podID)
	if out, _ := exec.Command(*hakoBin, "--root", dir+"/runc/k8s.io", "list", "-q").Output(); len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("hako still lists containers after the pod is gone: %s", out)
	}
}

func writeJSON(t *testing.T, path string, v any) string {
	t.Helper()
	b, _ := json.MarshalIndent(v, "", "  ")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
