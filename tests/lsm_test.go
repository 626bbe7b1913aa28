package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestLoopbackUp: in a new network namespace lo is up with 127.0.0.1, as
// runc and crun leave it, so programs can listen on and connect to
// localhost; with and without a user namespace. (busybox nc quits at EOF
// on its stdin, possibly before it read the connection: the listener's
// stdin is a pipe that stays open.)
func TestLoopbackUp(t *testing.T) {
	t.Parallel()
	script := `ip link show lo; ip addr show lo
(sleep 5 | nc -l -p 5555 > /dev/shm/got) &
for i in $(seq 100); do echo hello-lo | nc 127.0.0.1 5555 2>/dev/null && break; sleep 0.05; done
for i in $(seq 100); do [ -s /dev/shm/got ] && break; sleep 0.05; done
echo "got: $(cat /dev/shm/got)"`
	for name, edit := range map[string]func(*specs.Spec){
		"root":           func(*specs.Spec) {},
		"user namespace": withUserNS(65536, 65536),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := newCtr(t, edit).sh(script)
			if !strings.Contains(out, "<LOOPBACK,UP,LOWER_UP>") || !strings.Contains(out, "inet 127.0.0.1/8") {
				t.Errorf("lo is not up with 127.0.0.1:\n%s", out)
			}
			if !strings.Contains(out, "got: hello-lo") {
				t.Errorf("nc over 127.0.0.1 failed:\n%s", out)
			}
		})
	}
}

// TestLoopbackJoinedNetns: a network namespace given by path is the
// caller's to configure: hako leaves its lo as it was (down).
func TestLoopbackJoinedNetns(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare(1)")
	}
	holder := exec.Command("unshare", "--net", "sleep", "60")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	netns := fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid)
	for deadline := 0; deadline < 100; deadline++ { // until unshare has made it
		if a, _ := os.Readlink(netns); a != "" {
			if b, _ := os.Readlink("/proc/self/ns/net"); a != b {
				break
			}
		}
		exec.Command("sleep", "0.02").Run()
	}
	out := newCtr(t, func(s *specs.Spec) {
		for i := range s.Linux.Namespaces {
			if s.Linux.Namespaces[i].Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = netns
			}
		}
	}).sh("ip link show lo")
	if !strings.Contains(out, "<LOOPBACK>") || strings.Contains(out, "UP") {
		t.Errorf("lo of a joined network namespace was changed:\n%s", out)
	}
}

// hostHas reports what hako's features annotations say about the host.
func hostHas(t *testing.T, e *env, module string) bool {
	t.Helper()
	var f struct {
		Annotations map[string]string `json:"annotations"`
		Linux       struct {
			Apparmor struct{ Enabled *bool } `json:"apparmor"`
			Selinux  struct{ Enabled *bool } `json:"selinux"`
		} `json:"linux"`
	}
	if err := json.Unmarshal([]byte(e.ok("features").out), &f); err != nil {
		t.Fatal(err)
	}
	if a, s := f.Linux.Apparmor.Enabled, f.Linux.Selinux.Enabled; a == nil || !*a || s == nil || !*s {
		t.Errorf("features: apparmor/selinux support not reported as compiled in")
	}
	v, ok := f.Annotations["org.hako.host."+module+".enabled"]
	if !ok {
		t.Fatalf("features: no annotation for the host's %s", module)
	}
	_, aaErr := os.Stat("/sys/kernel/security/apparmor")
	b, _ := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	if module == "apparmor" && (v == "true") != (aaErr == nil && strings.HasPrefix(string(b), "Y")) {
		t.Errorf("features says the host's apparmor is %s; /sys says %q", v, b)
	}
	return v == "true"
}

// TestAppArmorHostWithout: a profile asked for on a host without AppArmor
// is refused before anything is made, for create and for exec (runc
// refuses too: its init fails writing the profile, with EINVAL).
func TestAppArmorHostWithout(t *testing.T) {
	t.Parallel()
	c := newCtr(t, func(s *specs.Spec) { s.Process.ApparmorProfile = "hako-test-profile" }, withSh("true"))
	if hostHas(t, c.env, "apparmor") {
		t.Skip("this host has AppArmor: tests/systemd/apparmor_test.go covers it")
	}
	const want = `process.apparmorProfile "hako-test-profile": AppArmor is not enabled on this host`
	for _, verb := range []string{"run", "create"} {
		r := c.hako(c.withID(verb, nil)...)
		if r.code == 0 || !strings.Contains(r.err, want) || strings.Count(strings.TrimSpace(r.err), "\n") != 0 {
			t.Errorf("%s with a profile: want one line %q:\n%s", verb, want, r)
		}
		if _, st := c.state(); st.code == 0 {
			t.Errorf("%s with a profile left a container behind", verb)
		}
	}
	// exec: --apparmor, and a profile in --process.
	r2, _ := runningCtr(t)
	if r := r2.hako("exec", "--apparmor", "hako-test-profile", r2.id, "true"); r.code == 0 || !strings.Contains(r.err, want) {
		t.Errorf("exec --apparmor: %s", r)
	}
	p := *r2.spec.Process
	p.Args, p.ApparmorProfile = []string{"true"}, "hako-test-profile"
	pf := r2.dir + "/process.json"
	b, _ := json.Marshal(p)
	if err := os.WriteFile(pf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := r2.hako("exec", "--process", pf, r2.id); r.code == 0 || !strings.Contains(r.err, want) {
		t.Errorf("exec --process with a profile: %s", r)
	}
	r2.ok("exec", r2.id, "true") // the container is unharmed
}

// TestSELinuxHostWithout: runc's refusal of a process label, word for word;
// a mount label fails the first mount that takes it, naming the mount and
// the option (runc: the same mount, EINVAL, without the why).
func TestSELinuxHostWithout(t *testing.T) {
	t.Parallel()
	c := newCtr(t, func(s *specs.Spec) { s.Process.SelinuxLabel = "system_u:system_r:container_t:s0:c1,c2" }, withSh("true"))
	if hostHas(t, c.env, "selinux") {
		t.Skip("this host has SELinux")
	}
	r := c.run()
	if want := "selinux label is specified in config, but selinux is disabled or not supported"; r.code == 0 || !strings.Contains(r.err, want) {
		t.Errorf("run with a process label: want %q:\n%s", want, r)
	}
	r2, _ := runningCtr(t)
	if r := r2.hako("exec", "--process-label", "system_u:system_r:container_t:s0", r2.id, "true"); r.code == 0 || !strings.Contains(r.err, "selinux is disabled") {
		t.Errorf("exec --process-label: %s", r)
	}
	c.edit(func(s *specs.Spec) {
		s.Process.SelinuxLabel = ""
		s.Linux.MountLabel = "system_u:object_r:container_file_t:s0:c1,c2"
	})
	r = c.run()
	for _, want := range []string{`mount tmpfs on /dev`, `context="system_u:object_r:container_file_t:s0:c1,c2": EINVAL`, "linux.mountLabel"} {
		if r.code == 0 || !strings.Contains(r.err, want) {
			t.Errorf("run with a mount label: want %q in:\n%s", want, r)
		}
	}
}

// TestExecFailureAfterReady: execve is init's last step, after hako stopped
// listening; its failure still reaches the user, on stderr, naming the step
// (the plan executor said nothing here before).
func TestExecFailureAfterReady(t *testing.T) {
	t.Parallel()
	c := newCtr(t, func(s *specs.Spec) { s.Process.Args = []string{"/bad"} })
	if err := os.WriteFile(c.bundle+"/rootfs/bad", []byte("not a program\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := c.run()
	if r.code == 0 || !strings.Contains(r.err, "exec /bad") || !strings.Contains(strings.ToLower(r.err), "exec format error") {
		t.Errorf("run of a file that is no program: %s", r)
	}
}
