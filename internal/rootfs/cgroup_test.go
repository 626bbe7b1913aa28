package rootfs

import (
	"reflect"
	"testing"

	"github.com/moby/sys/mountinfo"
)

func TestV1Only(t *testing.T) {
	mi := func(fs, mp string) *mountinfo.Info { return &mountinfo.Info{FSType: fs, Mountpoint: mp} }
	names := func(hs []*mountinfo.Info) (out []string) {
		for _, h := range hs {
			out = append(out, h.Mountpoint)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		in   []*mountinfo.Info
		want []string
	}{
		{"v2", []*mountinfo.Info{mi("cgroup2", "/sys/fs/cgroup")}, []string{"/sys/fs/cgroup"}},
		{"v1", []*mountinfo.Info{mi("cgroup", "/sys/fs/cgroup/cpu"), mi("cgroup", "/sys/fs/cgroup/systemd")},
			[]string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/systemd"}},
		// runc's mounts on a hybrid host: systemd in the container must
		// not see the cgroup2 tree, or it picks hybrid mode.
		{"hybrid", []*mountinfo.Info{mi("cgroup", "/sys/fs/cgroup/cpu"), mi("cgroup2", "/sys/fs/cgroup/unified"),
			mi("cgroup", "/sys/fs/cgroup/systemd")}, []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/systemd"}},
	} {
		if got := names(v1Only(tc.in)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
