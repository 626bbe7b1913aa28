package container

import "testing"

func TestBelowCgroup(t *testing.T) {
	const dir = "/sys/fs/cgroup/machine.slice/libpod-1.scope"
	for _, tc := range []struct {
		proc, want string
		ok         bool
	}{
		{"0::/machine.slice/libpod-1.scope/init.scope\n", "init.scope", true},
		{"0::/machine.slice/libpod-1.scope/a/b\n", "a/b", true},
		{"0::/machine.slice/libpod-1.scope\n", "", false},
		{"0::/machine.slice/libpod-12.scope/init.scope\n", "", false},
		{"0::/system.slice/x.service\n", "", false},
		{"4:memory:/x\n", "", false},
	} {
		got, ok := belowCgroup(dir, tc.proc)
		if got != tc.want || ok != tc.ok {
			t.Errorf("belowCgroup(%q) = %q, %v; want %q, %v", tc.proc, got, ok, tc.want, tc.ok)
		}
	}
}
