package lsm

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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
