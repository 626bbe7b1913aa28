package initplan

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

// TestCgroupBindSources: the container's cgroup where the runtime knows
// one, else the runtime's own from its /proc/self/cgroup (init stays
// there); h.Root is cut off.
func TestCgroupBindSources(t *testing.T) {
	v1 := func(mp, opts, root string) *mountinfo.Info {
		return &mountinfo.Info{FSType: "cgroup", Mountpoint: mp, VFSOptions: opts, Root: root}
	}
	self := []byte("12:pids:/user.slice/u\n5:cpu,cpuacct:/user.slice\n1:name=systemd:/user.slice/session-1.scope\n0::/user.slice/session-1.scope\n")
	hier := []*mountinfo.Info{v1("/sys/fs/cgroup/pids", "rw,pids", "/"), v1("/sys/fs/cgroup/cpu,cpuacct", "rw,cpu,cpuacct", "/"),
		v1("/sys/fs/cgroup/systemd", "rw,xattr,name=systemd", "/user.slice")}
	for _, tc := range []struct {
		name  string
		paths map[string]string
		want  map[string]string
	}{
		{"no cgroup of the container's", nil, map[string]string{
			"/sys/fs/cgroup/pids":        "/sys/fs/cgroup/pids/user.slice/u",
			"/sys/fs/cgroup/cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct/user.slice",
			"/sys/fs/cgroup/systemd":     "/sys/fs/cgroup/systemd/session-1.scope"}},
		{"some hierarchies", map[string]string{"pids": "/sys/fs/cgroup/pids/hako/c", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct/hako/c"}, map[string]string{
			"/sys/fs/cgroup/pids":        "/sys/fs/cgroup/pids/hako/c",
			"/sys/fs/cgroup/cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct/hako/c",
			"/sys/fs/cgroup/systemd":     "/sys/fs/cgroup/systemd/session-1.scope"}},
	} {
		got, err := CgroupBindSources(hier, tc.paths, self)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	v2 := []*mountinfo.Info{{FSType: "cgroup2", Mountpoint: "/sys/fs/cgroup", Root: "/"}}
	if got, err := CgroupBindSources(v2, nil, self); err != nil || got["/sys/fs/cgroup"] != "/sys/fs/cgroup/user.slice/session-1.scope" {
		t.Errorf("v2, no cgroup: %v, %v", got, err)
	}
	if got, err := CgroupBindSources(v2, map[string]string{"": "/sys/fs/cgroup/hako/c"}, self); err != nil || got["/sys/fs/cgroup"] != "/sys/fs/cgroup/hako/c" {
		t.Errorf("v2: %v, %v", got, err)
	}
	// No line for a hierarchy: left out, and said why.
	got, err := CgroupBindSources([]*mountinfo.Info{v1("/sys/fs/cgroup/memory", "rw,memory", "/")}, nil, self)
	if err == nil || len(got) != 0 {
		t.Errorf("no line for memory: %v, %v; want an error and nothing", got, err)
	}
}
