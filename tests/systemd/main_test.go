// Package systemd tests hako on a real systemd host: Debian 12 with systemd
// as PID 1, D-Bus, pure cgroup v2, AppArmor, and Docker, containerd and
// podman at their Debian defaults. It runs only inside the test VM that
// `make systemd-test` boots (scripts/sysvm, docs/systemd-vm.md), as root;
// anywhere else (no /etc/hako-sysvm) every test is skipped, so `go test
// ./...` on a build machine passes without running any.
//
// In the VM, by hand (vm.sh copies the binary in; see the doc):
//
//	/opt/hako-test/systemd.test -test.v -test.run Baseline
//
// Adding a test is adding a Go test function to a file of this package;
// helpers_test.go has what most need: run commands (as root or as the
// unprivileged hakouser in its own session), load the busybox test image
// into an engine, make an OCI bundle for hako.
package systemd

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"hako/tests/internal/busyboximage"
	"hako/tests/internal/guest"
)

// marker is written into the VM's image by scripts/sysvm/customize.sh.
const marker = guest.Marker

var hakoBin = flag.String("hako.bin", "/opt/hako-test/hako", "the hako binary under test")

// Built once by TestMain in work: the busybox image archive every engine
// loads (imageTar) and the rootfs bundles share a copy of (see bundle).
var (
	work     string
	imageTar string
)

// The name engines know the test image by.
const imageRef = "docker.io/hako-sysvm/busybox:latest"

// busybox is the guest's busybox-static: the image is made in the VM, which
// has no network to pull one.
const busybox = "/bin/busybox"

func TestMain(m *testing.M) {
	flag.Parse()
	if _, err := os.Stat(marker); err != nil {
		fmt.Println("systemd: skipping all: not in the systemd test VM (no " + marker + "); run `make systemd-test`")
		os.Exit(0)
	}
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, "systemd:", err)
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
	if _, err := os.Stat(*hakoBin); err != nil {
		return fmt.Errorf("-hako.bin: %w", err)
	}
	var err error
	if work, err = os.MkdirTemp("", "hako-systemd-"); err != nil {
		return err
	}
	// Readable by hakouser: rootless tests may use the image too.
	if err := os.Chmod(work, 0o755); err != nil {
		return err
	}
	imageTar = filepath.Join(work, "busybox.tar")
	return busyboximage.WriteArchive(imageTar, busybox, busyboximage.Image{Ref: imageRef, Cmd: []string{"sh"}})
}
