// Package k8s runs a real Kubernetes node on the systemd test VM
// (scripts/sysvm, docs/systemd-vm.md) and its static pods on hako: a
// kubelet in standalone mode (no API server: pods come from a manifest
// directory), containerd's CRI with the systemd cgroup driver, the bridge
// CNI plugin. What the kubelet does to a pod (sandbox, probes, restarts,
// pod cgroups, logs, streaming exec, graceful termination) is checked from
// the host, once with hako as containerd's default runtime and once with
// runc, for contrast. See docs/engines.md, "Kubernetes".
//
// It runs only inside the VM (`make k8s-test`, scripts/k8s/test.sh);
// anywhere else every test is skipped, so `go test ./...` stays green:
//
//	/opt/hako-test/k8s.test -test.v -test.run 'Kubelet/hako'
package k8s

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"hako/tests/internal/busyboximage"
	"hako/tests/internal/guest"
)

var (
	hakoBin    = flag.String("hako.bin", "/opt/hako-test/hako", "the hako binary under test")
	kubeletBin = flag.String("kubelet.bin", "/opt/hako-test/kubelet", "the kubelet (scripts/k8s/kubelet.sh)")
	crictlBin  = flag.String("crictl.bin", "/opt/hako-test/crictl", "crictl")
)

// The images, made in the VM from its busybox-static (the VM has no network
// and nothing is pulled: every manifest says imagePullPolicy: Never).
// The pause image is containerd's sandbox_image.
const (
	busybox  = "/bin/busybox"
	imageRef = "localhost/hako-k8s/busybox:1"
	pauseRef = "localhost/hako-k8s/pause:1"
)

var (
	work     string // removed after the run
	imageTar string // both images, one archive
)

func TestMain(m *testing.M) {
	flag.Parse()
	if !guest.InVM() {
		fmt.Println("k8s: skipping all: not in the systemd test VM (no " + guest.Marker + "); run `make k8s-test`")
		os.Exit(0)
	}
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, "k8s:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(work)
	os.Exit(code)
}

func setup() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("the suite runs as root in the VM")
	}
	for _, p := range []string{*hakoBin, *kubeletBin, *crictlBin, "/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback"} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w (the CNI plugins come with the image's containernetworking-plugins)", err)
		}
	}
	var err error
	if work, err = os.MkdirTemp("", "hako-k8s-"); err != nil {
		return err
	}
	imageTar = filepath.Join(work, "images.tar")
	// The pause container only holds the pod's namespaces; busybox's sleep
	// as PID 1 does that (SIGTERM is ignored by a PID 1 without a handler;
	// containerd stops a sandbox with SIGKILL).
	return busyboximage.WriteArchive(imageTar, busybox,
		busyboximage.Image{Ref: imageRef, Cmd: []string{"sh"}},
		busyboximage.Image{Ref: pauseRef, Cmd: []string{"sleep", "2147483647"}})
}
