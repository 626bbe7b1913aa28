package k8s

// The node: containerd's CRI configured as a Kubernetes node's (the systemd
// cgroup driver for every runtime, hako and runc both registered), the
// bridge CNI plugin on a bridge of the test's own, and a standalone
// kubelet as a transient systemd unit.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hako/tests/internal/guest"
)

// containerdConfig is containerd 1.6's configuration (version 2) for the
// node: both runtimes with SystemdCgroup = true, %[2]s the default (the
// runtime of every pod: a standalone kubelet has no RuntimeClass objects,
// so it asks for no handler), the pause image built by the test, CNI from
// Debian's plugins with a configuration directory of the test's.
const containerdConfig = `version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "%[3]s"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "%[2]s"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = true
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hako]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hako.options]
        BinaryName = "%[1]s"
        SystemdCgroup = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "%[4]s"
`

// cniConfig: one bridge with a host-local range. Pods get their own network
// namespace (held by the pause container, joined by every container of the
// pod by path), as on any cluster; the kubelet probes them over it.
const cniConfig = `{
  "cniVersion": "0.4.0",
  "name": "hako-k8s",
  "plugins": [{
    "type": "bridge",
    "bridge": "%[1]s",
    "isGateway": true,
    "ipMasq": false,
    "ipam": {
      "type": "host-local",
      "ranges": [[{"subnet": "%[2]s"}]],
      "dataDir": "%[3]s"
    }
  }]
}
`

// kubeletConfig: standalone (no kubeconfig), static pods from a directory,
// the systemd cgroup driver, the read-only port on 127.0.0.1 (its /pods is
// the kubelet's own view of each pod, status included). Image garbage
// collection is off: the test's images cannot be pulled again.
const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
staticPodPath: %[1]s
fileCheckFrequency: 5s
address: 127.0.0.1
readOnlyPort: %[2]d
healthzBindAddress: 127.0.0.1
healthzPort: %[3]d
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
failSwapOn: false
resolvConf: ""
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
`

const (
	containerdConf = "/etc/containerd/config.toml"
	readOnlyPort   = 10255
	healthzPort    = 10248
	bridgeName     = "hakok8s0"
	podSubnet      = "10.244.77.0/24"
	hakoStateRoot  = "/run/containerd/runc/k8s.io" // the shim's --root for the k8s.io namespace
)

// node is one kubelet on containerd with one default runtime.
type node struct {
	runtime   string // "hako" or "runc": containerd's default_runtime_name
	dir       string // everything of the node's: manifests, cni, kubelet, ipam, host
	unit      string // the kubelet's transient unit
	manifests string
	started   time.Time // the kubelet's start: its log from then on
}

// startNode configures containerd with runtime as default, restarts it,
// imports the images and starts the kubelet. Everything is undone in the
// test's cleanup: the kubelet stopped, its root unmounted and removed,
// containerd's configuration restored, the bridge deleted.
func startNode(t *testing.T, runtime string) *node {
	t.Helper()
	id := guest.NewID("hako-k8s")
	n := &node{runtime: runtime, dir: "/var/lib/" + id, unit: id + "-kubelet.service"}
	n.manifests = filepath.Join(n.dir, "manifests")
	for _, d := range []string{n.manifests, n.path("cni"), n.path("kubelet"), n.path("host")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Cleanups run last first: the pods go while containerd still has
	// the node's configuration (its CNI tears down their networks).
	old, _ := os.ReadFile(containerdConf)
	t.Cleanup(func() {
		if old == nil {
			os.Remove(containerdConf)
		} else {
			os.WriteFile(containerdConf, old, 0o644)
		}
		guest.Try("systemctl", "restart", "containerd")
	})
	t.Cleanup(n.cleanup)
	writeFile(t, containerdConf, fmt.Sprintf(containerdConfig, *hakoBin, runtime, pauseRef, n.path("cni")))
	writeFile(t, n.path("cni", "10-hako-k8s.conflist"), fmt.Sprintf(cniConfig, bridgeName, podSubnet, n.path("ipam")))
	writeFile(t, n.path("kubelet.yaml"), fmt.Sprintf(kubeletConfig, n.manifests, readOnlyPort, healthzPort))
	guest.Run(t, "systemctl", "restart", "containerd")
	guest.Run(t, "ctr", "-n", "k8s.io", "images", "import", imageTar)
	n.started = time.Now()
	guest.Run(t, "systemd-run", "--unit", n.unit, "--collect",
		*kubeletBin, "--config", n.path("kubelet.yaml"), "--root-dir", n.path("kubelet"), "--v", "2")
	// healthz answers early; the read-only port once the kubelet runs.
	guest.WaitFor(t, "the kubelet's healthz and read-only port", 3*time.Minute, func() bool {
		if guest.UnitProps(t, n.unit, "ActiveState")["ActiveState"] != "active" {
			t.Fatalf("the kubelet stopped:\n%s", n.log())
		}
		return httpOK(fmt.Sprintf("http://127.0.0.1:%d/healthz", healthzPort)) &&
			httpOK(fmt.Sprintf("http://127.0.0.1:%d/pods", readOnlyPort))
	})
	return n
}

// httpOK reports whether a GET of url answers 200.
func httpOK(url string) bool {
	r, err := http.Get(url)
	if err != nil {
		return false
	}
	r.Body.Close()
	return r.StatusCode == 200
}

func (n *node) path(elem ...string) string { return filepath.Join(append([]string{n.dir}, elem...)...) }

// cleanup stops the kubelet and removes what is left of the node. The
// kubelet's pods are gone by then if the test passed (nothingLeft checks);
// after a failure, crictl removes what it left.
func (n *node) cleanup() {
	guest.Try("systemctl", "stop", n.unit)
	if guest.Try(n.cri("pods", "-q")...).Stdout != "" {
		guest.Try(n.cri("rmp", "-af")...)
	}
	// Pod cgroups the kubelet had no time to remove (it keeps the QoS
	// slices, kubepods.slice and the two below it, as any kubelet does).
	guest.Try("systemctl", "stop", "kubepods-pod*.slice", "kubepods-*-pod*.slice")
	// The kubelet makes its root directory a shared bind mount of itself.
	guest.Try("umount", "-R", n.path("kubelet"))
	os.RemoveAll(n.dir)
	guest.Try("ip", "link", "del", bridgeName)
}

// log is the kubelet's log since this node started it.
func (n *node) log() string {
	return guest.Try("journalctl", "-u", n.unit, "-o", "cat", "--no-pager",
		"--since", n.started.Add(-time.Second).Format("2006-01-02 15:04:05")).Stdout
}

// checkLoggedExit checks that the kubelet logged the container's exit
// with its exit code (its pod lifecycle event generator, at -v 2).
func (n *node) checkLoggedExit(t *testing.T, id string, code int) {
	t.Helper()
	want := fmt.Sprintf("containerID=%q exitCode=%d", id, code)
	guest.WaitFor(t, "the kubelet to log "+want, 30*time.Second, func() bool { return strings.Contains(n.log(), want) })
}

// cri is crictl on containerd's socket.
func (n *node) cri(args ...string) []string {
	return append([]string{*crictlBin, "--runtime-endpoint", "unix:///run/containerd/containerd.sock", "--timeout", "60s"}, args...)
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pod is a static pod: a manifest in the node's directory.
type pod struct {
	name    string // the manifest's; the kubelet adds "-" and the node name
	uid     string
	file    string
	written time.Time
}

// apply writes a static pod's manifest (JSON: the kubelet reads YAML or
// JSON) into the manifest directory, atomically: a temporary dot file
// (the kubelet ignores those) renamed into place.
func (n *node) apply(t *testing.T, name string, spec map[string]any) *pod {
	t.Helper()
	p := &pod{name: name, uid: newUID(), file: filepath.Join(n.manifests, name+".json")}
	m := map[string]any{
		"apiVersion": "v1",
		"kind":       "Pod",
		"metadata":   map[string]any{"name": name, "namespace": "default", "uid": p.uid},
		"spec":       spec,
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(n.manifests, "."+name+".tmp")
	writeFile(t, tmp, string(b))
	p.written = time.Now()
	if err := os.Rename(tmp, p.file); err != nil {
		t.Fatal(err)
	}
	return p
}

// newUID is a random UUID (version 4), as an API server would give.
func newUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// delete removes the pod's manifest: the kubelet kills the pod (the
// graceful sequence) and, later, removes it.
func (n *node) delete(t *testing.T, p *pod) {
	t.Helper()
	if err := os.Remove(p.file); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
}

// The kubelet's view of a pod, from its read-only port's /pods: the pod as
// the kubelet's pod manager holds it, with the status manager's status
// (the kubelet fills that in for static pods when there is no API server).
type kubeletPod struct {
	Metadata struct{ Name, UID string }
	Status   struct {
		Phase             string
		PodIP             string
		QOSClass          string
		Conditions        []struct{ Type, Status string }
		ContainerStatuses []containerStatus
	}
}

type containerStatus struct {
	Name         string
	Ready        bool
	RestartCount int
	ContainerID  string
	State        containerState
	LastState    containerState
}

type containerState struct {
	Running    *struct{ StartedAt string }
	Terminated *struct {
		ExitCode    int
		Reason      string
		ContainerID string
	}
	Waiting *struct{ Reason string }
}

// kubeletPod returns the kubelet's view of p, or nil if it has none.
func (n *node) kubeletPod(t *testing.T, p *pod) *kubeletPod {
	t.Helper()
	r, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/pods", readOnlyPort))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var list struct{ Items []kubeletPod }
	if err := json.NewDecoder(r.Body).Decode(&list); err != nil {
		t.Fatalf("the kubelet's /pods: %v", err)
	}
	for i := range list.Items {
		if list.Items[i].Metadata.UID == p.uid {
			return &list.Items[i]
		}
	}
	return nil
}

// status is the kubelet's status of one container of p (nil if none yet).
func (n *node) status(t *testing.T, p *pod, container string) *containerStatus {
	t.Helper()
	kp := n.kubeletPod(t, p)
	if kp == nil {
		return nil
	}
	for i := range kp.Status.ContainerStatuses {
		if kp.Status.ContainerStatuses[i].Name == container {
			return &kp.Status.ContainerStatuses[i]
		}
	}
	return nil
}

// waitStatus waits until the kubelet reports a status of container that
// satisfies cond, and returns it.
func (n *node) waitStatus(t *testing.T, p *pod, container, what string, timeout time.Duration, cond func(*containerStatus) bool) *containerStatus {
	t.Helper()
	var st *containerStatus
	guest.WaitFor(t, container+" of "+p.name+": "+what, timeout, func() bool {
		st = n.status(t, p, container)
		return st != nil && cond(st)
	})
	return st
}

// sandbox returns the ID of p's ready pod sandbox, waiting for it.
func (n *node) sandbox(t *testing.T, p *pod) string {
	t.Helper()
	var id string
	guest.WaitFor(t, "the sandbox of "+p.name, 3*time.Minute, func() bool {
		id = strings.TrimSpace(guest.Try(n.cri("pods", "-q", "--state", "ready", "--label", "io.kubernetes.pod.uid="+p.uid)...).Stdout)
		return id != "" && !strings.Contains(id, "\n")
	})
	return id
}

// criContainer is one container as crictl inspect shows it.
type criContainer struct {
	Status struct {
		ID, State           string
		CreatedAt           time.Time
		StartedAt           time.Time
		FinishedAt          time.Time
		ExitCode            int
		Metadata            struct{ Name string }
		Labels, Annotations map[string]string
	}
	Info struct {
		Pid            int
		RuntimeType    string
		RuntimeOptions struct {
			BinaryName    string `json:"binary_name"`
			SystemdCgroup bool   `json:"systemd_cgroup"`
		}
	}
}

// inspect is crictl inspect of a container.
func (n *node) inspect(t *testing.T, id string) criContainer {
	t.Helper()
	var c criContainer
	if err := json.Unmarshal([]byte(guest.Run(t, n.cri("inspect", id)...)), &c); err != nil {
		t.Fatalf("crictl inspect %s: %v", id, err)
	}
	return c
}

// waitExited waits for crictl to see the container exited and returns it;
// it fails if the container is gone first.
func (n *node) waitExited(t *testing.T, id string) criContainer {
	t.Helper()
	var c criContainer
	guest.WaitFor(t, "container "+id+" to exit", 3*time.Minute, func() bool {
		r := guest.Try(n.cri("inspect", id)...)
		if r.Code != 0 {
			t.Fatalf("the container was removed before crictl saw it exited: %s", r)
		}
		if err := json.Unmarshal([]byte(r.Stdout), &c); err != nil {
			t.Fatalf("crictl inspect %s: %v", id, err)
		}
		return c.Status.State == "CONTAINER_EXITED"
	})
	return c
}

// containerID is the bare ID of a kubelet containerID ("containerd://ID").
func containerID(s string) string {
	_, id, _ := strings.Cut(s, "://")
	return id
}

// checkRuntime checks that containerd runs the container with the node's
// runtime: the shim's binary, and for hako, hako's own state of it (a
// running container: the shim deletes the runtime's state at exit).
func (n *node) checkRuntime(t *testing.T, id string) {
	t.Helper()
	n.checkRuntimeOptions(t, id)
	r := guest.Try(*hakoBin, "--root", hakoStateRoot, "state", id)
	if n.runtime == "hako" && r.Code != 0 {
		t.Errorf("hako state of the kubelet's container: %s", r)
	}
}

// checkRuntimeOptions checks the runtime options containerd ran the
// container with: the node runtime's binary, the systemd cgroup driver.
func (n *node) checkRuntimeOptions(t *testing.T, id string) {
	t.Helper()
	c := n.inspect(t, id)
	want := "" // runc: the shim's default binary
	if n.runtime == "hako" {
		want = *hakoBin
	}
	if c.Info.RuntimeOptions.BinaryName != want || !c.Info.RuntimeOptions.SystemdCgroup {
		t.Errorf("container %s: runtime options %+v, want binary %q with SystemdCgroup", id, c.Info.RuntimeOptions, want)
	}
}

// uidSlice is the systemd name of a pod UID in a slice name.
func uidSlice(uid string) string { return strings.ReplaceAll(uid, "-", "_") }

// podCgroup is the pod's cgroup directory (relative to /sys/fs/cgroup),
// by its QoS class: kubepods.slice/kubepods-pod<uid>.slice (Guaranteed) or
// kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid>.slice.
func podCgroup(qos, uid string) string {
	if qos == "Guaranteed" {
		return "kubepods.slice/kubepods-pod" + uidSlice(uid) + ".slice"
	}
	q := strings.ToLower(qos)
	return "kubepods.slice/kubepods-" + q + ".slice/kubepods-" + q + "-pod" + uidSlice(uid) + ".slice"
}

// checkCgroup checks cgroup files of a directory under /sys/fs/cgroup.
func checkCgroup(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for f, want := range files {
		if got := guest.ReadFile(t, filepath.Join("/sys/fs/cgroup", dir, f)); got != want {
			t.Errorf("%s/%s = %q, want %q", dir, f, got, want)
		}
	}
}

// weight is cpu.weight for a CPU request in millicores: the kubelet's
// cpu.shares (milli*1024/1000, at least 2) mapped to cgroup v2 as runc,
// systemd and hako map it.
func weight(milli int) string {
	shares := max(milli*1024/1000, 2)
	return fmt.Sprint(1 + ((shares-2)*9999)/262142)
}
