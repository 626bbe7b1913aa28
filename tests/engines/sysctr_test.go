package engines

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// System containers: systemd as PID 1 (docs/engines.md, "System
// containers"). One container per engine: systemd boots, its own unit
// (hako-httpd.service, busybox httpd on 127.0.0.1:8080) answers, and stop
// shuts systemd down cleanly.

const sysctrRef = "localhost/hako-sysctr:latest"

// sysctrImage builds (or finds in the machine-wide cache) the systemd
// rootfs tarball: scripts/sysctr/image.sh.
func sysctrImage(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		t.Skip("mmdebstrap is not installed: no systemd image to run")
	}
	out, err := exec.Command("../../scripts/sysctr/image.sh").Output()
	if err != nil {
		t.Fatalf("scripts/sysctr/image.sh: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func TestSysctrPodman(t *testing.T) {
	needRoot(t)
	t.Parallel()
	img := sysctrImage(t)
	p := newPodman(t)
	p.podman.ok("import", img, sysctrRef)
	name := uniq("hako-e2e-sysctr-")
	p.podman.ok(p.runArgs("-d", "--name", name, "--systemd=always", sysctrRef, "/sbin/init")...)
	t.Cleanup(func() { p.podman.run("rm", "-f", name) })
	bootAndStop(t, p.podman, name)
}

func TestSysctrDocker(t *testing.T) {
	needRoot(t)
	t.Parallel()
	img := sysctrImage(t)
	d := startDockerd(t)
	d.docker.ok("import", img, sysctrRef)
	name := uniq("hako-e2e-sysctr-")
	// runc's recipe on this host: with --cgroupns private instead of the
	// bind, Docker mounts the cgroups read-only and systemd exits at once
	// ("Failed to create /init.scope control group"), under runc as under
	// hako. Docker stops with SIGTERM unless told: systemd ignores it.
	d.docker.ok("run", "-d", "--runtime", "hako", "--name", name, "--network", "none",
		"--tmpfs", "/run", "--tmpfs", "/run/lock", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro",
		"--stop-signal", "SIGRTMIN+3", sysctrRef, "/sbin/init")
	t.Cleanup(func() { d.docker.run("rm", "-f", name) })
	bootAndStop(t, d.docker, name)
}

// bootAndStop waits for systemd in container name to reach "running",
// asks hako-httpd.service for its page, then stops the container and
// wants systemd to have exited 0 (a clean shutdown) within the timeout.
func bootAndStop(t *testing.T, c tool, name string) {
	t.Helper()
	t0 := time.Now()
	state := ""
	for deadline := t0.Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		r := c.run("exec", name, "systemctl", "is-system-running")
		if state = strings.TrimSpace(r.out); state == "running" || state == "degraded" {
			break
		}
		if strings.TrimSpace(c.run("inspect", "-f", "{{.State.Running}}", name).out) == "false" {
			state = "exited " + strings.TrimSpace(c.run("inspect", "-f", "{{.State.ExitCode}}", name).out)
			break
		}
	}
	if state != "running" {
		failed := c.run("exec", name, "systemctl", "--failed", "--no-pager")
		logs := c.run("logs", name)
		t.Fatalf("systemd is %q after %v, want running\nfailed units:\n%s\nlogs:\n%s%s", state, time.Since(t0).Round(time.Millisecond), failed.out, logs.out, logs.err)
	}
	t.Logf("systemd running after %v", time.Since(t0).Round(time.Millisecond))
	if r := c.run("exec", name, "busybox", "wget", "-qO-", "127.0.0.1:8080"); r.out != "hako-sysctr ok\n" {
		t.Errorf("hako-httpd.service: %s", r)
	}
	t0 = time.Now()
	c.ok("stop", "-t", "30", name)
	took := time.Since(t0)
	t.Logf("stop took %v", took.Round(time.Millisecond))
	code := strings.TrimSpace(c.ok("inspect", "-f", "{{.State.ExitCode}}", name).out)
	if code != "0" || took > 25*time.Second {
		t.Errorf("stop: systemd exited %s after %v; want 0 (a clean shutdown on SIGRTMIN+3), well within the 30 s timeout", code, took)
	}
	c.ok("rm", name)
}

// Rootless podman on this v1-hybrid host. With no systemd here, no cgroup
// is delegated to the user, and podman runs the container without cgroups
// of its own (cgroupfs manager, no cgroup namespace): systemd cannot create
// /init.scope and exits, under runc 1.1.5 as under hako ("Failed to create
// /init.scope control group: Permission denied"). What the test holds hako
// to is runc's result: the same /sys/fs/cgroup (the writable tmpfs, each
// hierarchy bound read-only) and the same outcome for systemd. The systemd
// VM (tests/systemd, TestSysctr/podman-rootless) is where it boots.
func TestSysctrPodmanRootless(t *testing.T) {
	needRoot(t)
	t.Parallel()
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("runc is not installed: nothing to compare with")
	}
	img := sysctrImage(t)
	u := newRLUser(t)
	u.write(t, 0o644, "sysctr.tar", readFile(img))
	u.podman(t, "").ok("import", u.home+"/sysctr.tar", sysctrRef)
	type result struct{ mounts, boot string }
	get := func(rt string) result {
		p := u.podman(t, rt)
		r := p.run("run", "--rm", "--systemd=always", sysctrRef, "sh", "-c", "grep ' /sys/fs/cgroup' /proc/self/mountinfo")
		if r.code != 0 {
			t.Fatalf("the cgroup mounts under %s: %s", rt, r)
		}
		var mounts []string
		for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
			f := strings.Fields(l) // id parent maj:min root point opts ...
			if len(f) > 5 {
				mounts = append(mounts, strings.Join(f[3:6], " ")+" "+l[strings.Index(l, " - "):])
			}
		}
		// With a terminal systemd says why it stops; the lines that say
		// "Failed" are its verdict.
		b := p.run("run", "--rm", "-t", "--systemd=always", sysctrRef, "/sbin/init")
		var failed []string
		for _, l := range strings.Split(b.out, "\n") {
			if strings.Contains(l, "control group") || strings.Contains(l, "manager object") {
				failed = append(failed, strings.TrimSpace(l))
			}
		}
		return result{strings.Join(mounts, "\n"), fmt.Sprintf("exit %d: %s", b.code, strings.Join(failed, "; "))}
	}
	want, got := get(runc), get("")
	if got.mounts != want.mounts {
		t.Errorf("/sys/fs/cgroup differs from runc's:\nhako:\n%s\nrunc:\n%s", got.mounts, want.mounts)
	}
	if got.boot != want.boot {
		t.Errorf("systemd as PID 1: hako %q, runc %q", got.boot, want.boot)
	}
	t.Logf("systemd under both: %s", got.boot)
}
