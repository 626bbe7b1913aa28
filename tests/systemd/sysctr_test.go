package systemd

// System containers on this systemd + cgroup v2 host: systemd as PID 1
// under podman --systemd=always and Docker (docs/engines.md, "System
// containers"), one container per engine. The image is built on the host
// (scripts/sysctr/image.sh; the guest has no network) and copied in by
// scripts/sysvm/test.sh.

import (
	"flag"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

var sysctrImage = flag.String("sysctr.image", "/opt/hako-test/sysctr-rootfs.tar.gz",
	"the system-container rootfs tarball (scripts/sysctr/image.sh)")

const sysctrRef = "localhost/hako-sysctr:latest"

func TestSysctr(t *testing.T) {
	if _, err := os.Stat(*sysctrImage); err != nil {
		t.Skipf("no system-container image (%v): scripts/sysvm/test.sh copies it in", err)
	}
	useHakoInDocker(t)
	// Both imports at once: each is mostly one gunzip, slow under
	// emulation, and the guest has two CPUs.
	var wg sync.WaitGroup
	imports := map[string]result{}
	var mu sync.Mutex
	for _, engine := range []string{podman, docker} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := try(engine, "import", *sysctrImage, sysctrRef)
			mu.Lock()
			imports[engine] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		try(podman, "rmi", sysctrRef)
		try(docker, "rmi", sysctrRef)
	})
	for engine, r := range imports {
		if r.code != 0 {
			t.Fatalf("%s import: %s", engine, r)
		}
	}
	t.Run("podman", func(t *testing.T) {
		name := newID(t)
		p := []string{podman, "--runtime", *hakoBin}
		t.Cleanup(func() { try(append(p, "rm", "-f", name)...) })
		id := run(t, append(p, "run", "-d", "--name", name, "--systemd=always", sysctrRef, "/sbin/init")...)
		bootAndStop(t, p, name)
		unit := "libpod-" + id + ".scope"
		unitGone(t, unit, "/sys/fs/cgroup/machine.slice/"+unit)
	})
	t.Run("podman-rootless", func(t *testing.T) {
		// As the user, at podman's rootless defaults: a private cgroup
		// namespace whose root is the user's delegated scope, so the
		// cgroup mount is writable there (runc's CVE-2023-25809 rule
		// makes it read-only only without a cgroup namespace).
		if err := os.Chmod(*sysctrImage, 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, inHome(podman, "import", "-q", *sysctrImage, sysctrRef)...)
		t.Cleanup(func() { try(inHome(podman, "rmi", sysctrRef)...) })
		name := newID(t)
		p := inHome(podman, "--runtime", *hakoBin)
		t.Cleanup(func() { try(append(p, "rm", "-f", name)...) })
		id := run(t, append(p, "run", "-d", "--name", name, "--systemd=always", sysctrRef, "/sbin/init")...)
		bootAndStop(t, p, name)
		waitFor(t, "the user's scope to go", 10*time.Second, func() bool { return userUnits(t, "libpod-"+id+".scope") == "" })
	})
	t.Run("docker", func(t *testing.T) {
		name := newID(t)
		t.Cleanup(func() { try(docker, "rm", "-f", name) })
		// runc's recipe here: with Docker's default private cgroup
		// namespace its cgroup mount is read-only and systemd exits at
		// once ("Failed to create /init.scope control group"), under runc
		// as under hako.
		id := run(t, docker, "run", "-d", "--runtime", "hako", "--name", name, "--network", "none",
			"--tmpfs", "/run", "--tmpfs", "/run/lock", "--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
			"--stop-signal", "SIGRTMIN+3", sysctrRef, "/sbin/init")
		bootAndStop(t, []string{docker}, name)
		unit := "docker-" + id + ".scope"
		unitGone(t, unit, "/sys/fs/cgroup/system.slice/"+unit)
	})
}

// bootAndStop waits for systemd in container name to be running, asks
// hako-httpd.service (busybox httpd on 127.0.0.1:8080) for its page, stops
// the container and wants systemd to have exited 0, a clean shutdown.
func bootAndStop(t *testing.T, cli []string, name string) {
	t.Helper()
	c := func(args ...string) result { return try(append(append([]string{}, cli...), args...)...) }
	t0 := time.Now()
	state := ""
	for deadline := t0.Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		if state = strings.TrimSpace(c("exec", name, "systemctl", "is-system-running").stdout); state == "running" || state == "degraded" {
			break
		}
		if strings.TrimSpace(c("inspect", "-f", "{{.State.Running}}", name).stdout) == "false" {
			state = "exited " + strings.TrimSpace(c("inspect", "-f", "{{.State.ExitCode}}", name).stdout)
			break
		}
	}
	if state != "running" {
		t.Fatalf("systemd is %q after %v, want running\nfailed units: %s\nlogs: %s", state, time.Since(t0).Round(time.Millisecond),
			c("exec", name, "systemctl", "--failed", "--no-pager"), c("logs", name))
	}
	t.Logf("systemd running after %v", time.Since(t0).Round(time.Millisecond))
	if r := c("exec", name, "busybox", "wget", "-qO-", "127.0.0.1:8080"); r.stdout != "hako-sysctr ok\n" {
		t.Errorf("hako-httpd.service: %s", r)
	}
	t0 = time.Now()
	if r := c("stop", "-t", "60", name); r.code != 0 {
		t.Fatalf("stop: %s", r)
	}
	took := time.Since(t0)
	t.Logf("stop took %v", took.Round(time.Millisecond))
	if code := strings.TrimSpace(c("inspect", "-f", "{{.State.ExitCode}}", name).stdout); code != "0" || took > 50*time.Second {
		t.Errorf("stop: systemd exited %s after %v; want 0 (a clean shutdown on SIGRTMIN+3) within the 60 s timeout", code, took)
	}
	if r := c("rm", name); r.code != 0 {
		t.Errorf("rm: %s", r)
	}
}
