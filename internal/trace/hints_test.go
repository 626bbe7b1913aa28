package trace

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestLSMWording: a profile the kernel does not know fails the exec
// attribute write with ENOENT, which must read as what it is, naming the
// profile, from either init (Remote is the plan executor's path).
func TestLSMWording(t *testing.T) {
	for _, tc := range []struct {
		step, operands string
		errno          unix.Errno
		want           string
	}{
		{"apparmor", "exec foo", unix.ENOENT,
			`apparmor exec foo: ENOENT: no such file or directory: apparmor profile "foo" is not loaded (see aa-status / apparmor_parser)`},
		{"apparmor", "exec foo", unix.EACCES,
			`apparmor exec foo: EACCES: permission denied: the AppArmor profile hako itself runs under does not allow changing to "foo" (change_profile)`},
		{"apparmor", "open /proc/thread-self/attr/apparmor/exec", unix.ENOENT,
			"apparmor open /proc/thread-self/attr/apparmor/exec: ENOENT: no such file or directory"},
		{"selinux", "exec system_u:system_r:x_t:s0", unix.EINVAL,
			"selinux exec system_u:system_r:x_t:s0: EINVAL: invalid argument: the loaded SELinux policy does not know this label (or it is malformed)"},
		{"mount", `tmpfs on /dev (mode=755) context="a:b:c:s0"`, unix.EINVAL,
			`mount tmpfs on /dev (mode=755) context="a:b:c:s0": EINVAL: invalid argument: the kernel refused the context= option of linux.mountLabel: it needs SELinux enabled on the host and a label the loaded policy knows`},
	} {
		if got := Remote(tc.step, tc.operands, "", "", int(tc.errno)).Error(); got != tc.want {
			t.Errorf("Remote:\n got %s\nwant %s", got, tc.want)
		}
		err := New("init", nil).Step(tc.step, tc.operands, func() error { return tc.errno })
		if got := err.Error(); got != tc.want {
			t.Errorf("Step:\n got %s\nwant %s", got, tc.want)
		}
	}
}
