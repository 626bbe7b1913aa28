package lsm

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// swap replaces the host checks for one test.
func swap(t *testing.T, apparmor, selinux bool) {
	a, s := AppArmorEnabled, SELinuxEnabled
	AppArmorEnabled = func() bool { return apparmor }
	SELinuxEnabled = func() bool { return selinux }
	t.Cleanup(func() { AppArmorEnabled, SELinuxEnabled = a, s })
}

// TestCheck: as runc, a profile or label the host cannot apply is refused
// (runc's own words for SELinux); nothing asked, nothing refused.
func TestCheck(t *testing.T) {
	aa := &specs.Process{ApparmorProfile: "docker-default"}
	se := &specs.Process{SelinuxLabel: "system_u:system_r:container_t:s0"}
	for _, tc := range []struct {
		p                 *specs.Process
		apparmor, selinux bool
		want              string
	}{
		{&specs.Process{}, false, false, ""},
		{nil, false, false, ""},
		{aa, true, false, ""},
		{se, false, true, ""},
		{aa, false, true, `process.apparmorProfile "docker-default": AppArmor is not enabled on this host`},
		{se, true, false, "selinux label is specified in config, but selinux is disabled or not supported"},
	} {
		swap(t, tc.apparmor, tc.selinux)
		err := Check(tc.p)
		if (err == nil) != (tc.want == "") || err != nil && !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Check(%+v) with apparmor=%v selinux=%v: %v, want %q", tc.p, tc.apparmor, tc.selinux, err, tc.want)
		}
	}
}

func TestExecAttr(t *testing.T) {
	p := &specs.Process{ApparmorProfile: "p1", SelinuxLabel: "l1"}
	if paths, data, ok := ExecAttr(AppArmor, p); !ok || data != "exec p1" || strings.Join(paths, " ") != "thread-self/attr/apparmor/exec thread-self/attr/exec" {
		t.Errorf("apparmor: %v %q %v", paths, data, ok)
	}
	if paths, data, ok := ExecAttr(SELinux, p); !ok || data != "l1" || strings.Join(paths, " ") != "thread-self/attr/exec" {
		t.Errorf("selinux: %v %q %v", paths, data, ok)
	}
	if _, _, ok := ExecAttr(AppArmor, &specs.Process{}); ok {
		t.Error("apparmor without a profile")
	}
	if got := Operands(AppArmor, p); got != "exec p1" {
		t.Errorf("operands %q", got)
	}
}

// TestOpenExecAttr: through this host's /proc the file opens (the shared
// attr/exec where the kernel has no AppArmor directory). Without any LSM
// that takes exec labels the write is refused with EINVAL, which is what
// runc's init reports on such a host.
func TestOpenExecAttr(t *testing.T) {
	f, err := OpenExecAttr(AppArmor, []string{"thread-self/attr/apparmor/exec", "thread-self/attr/exec"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = f.Write([]byte("exec hako-test-no-such-profile"))
	if AppArmorEnabled() {
		if !errors.Is(err, unix.ENOENT) {
			t.Errorf("write of a profile that is not loaded: %v, want ENOENT", err)
		}
	} else if !errors.Is(err, unix.EINVAL) {
		t.Errorf("write without AppArmor: %v, want EINVAL", err)
	}
	if _, err := OpenExecAttr(AppArmor, []string{"thread-self/attr/no-such-file"}); !errors.Is(err, unix.ENOENT) {
		t.Errorf("missing file: %v", err)
	}
}
