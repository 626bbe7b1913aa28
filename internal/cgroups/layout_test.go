package cgroups

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// hybridMountinfo is this project's build VM: v1 controllers one per
// mount, a cgroup2 tree at /sys/fs/cgroup/unified.
const hybridMountinfo = `25 1 0:23 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

func TestParseMountinfo(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		v1      map[string]mount
		unified *mount
	}{{
		name: "hybrid",
		text: hybridMountinfo,
		v1: map[string]mount{
			"cpu": {"/sys/fs/cgroup/cpu", "/"}, "cpuacct": {"/sys/fs/cgroup/cpuacct", "/"},
			"cpuset": {"/sys/fs/cgroup/cpuset", "/"}, "memory": {"/sys/fs/cgroup/memory", "/"},
			"name=systemd": {"/sys/fs/cgroup/systemd", "/"},
		},
		unified: &mount{"/sys/fs/cgroup/unified", "/"},
	}, {
		name:    "pure v2",
		text:    "29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
		v1:      map[string]mount{},
		unified: &mount{"/sys/fs/cgroup", "/"},
	}, {
		name: "co-mounted, bind-mounted from a container's cgroup, first mount wins",
		text: "32 31 0:29 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid shared:9 master:3 - cgroup cgroup rw,cpu,cpuacct\n" +
			"33 31 0:29 / /mnt/cpu rw - cgroup cgroup rw,cpu,cpuacct\n" +
			"34 31 0:30 / /mnt/my\\040cg rw - cgroup cgroup rw,freezer,xattr\n",
		v1: map[string]mount{
			"cpu": {"/sys/fs/cgroup/cpu,cpuacct", "/docker/abc"}, "cpuacct": {"/sys/fs/cgroup/cpu,cpuacct", "/docker/abc"},
			"freezer": {"/mnt/my cg", "/"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := parseMountinfo(strings.NewReader(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(l.v1, tt.v1) || !reflect.DeepEqual(l.unified, tt.unified) {
				t.Errorf("got v1 %v unified %v\nwant v1 %v unified %v", l.v1, l.unified, tt.v1, tt.unified)
			}
		})
	}
	if _, err := parseMountinfo(strings.NewReader("1 2 3\n")); err == nil {
		t.Error("short line accepted")
	}
}

func TestParseProcCgroup(t *testing.T) {
	own, err := parseProcCgroup(strings.NewReader("9:name=systemd:/\n4:memory:/process_api/5f\n2:cpu,cpuacct:/a\n0::/user.slice\n"))
	want := map[string]string{"name=systemd": "/", "memory": "/process_api/5f", "cpu": "/a", "cpuacct": "/a", "": "/user.slice"}
	if err != nil || !reflect.DeepEqual(own, want) {
		t.Errorf("got %v, %v; want %v", own, err, want)
	}
	if _, err := parseProcCgroup(strings.NewReader("garbage\n")); err == nil {
		t.Error("bad line accepted")
	}
}

func TestCgroupPath(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
		err  string
	}{
		{Config{ID: "c1"}, "/hako/c1", ""},
		{Config{Path: "/a/b/../c/"}, "/a/c", ""},
		{Config{Path: "a/b"}, "a/b", ""},
		{Config{Path: "system.slice:hako:c1"}, "", "needs the systemd cgroup driver"},
		{Config{Path: "/.."}, "", "outside a cgroup"},
		{Config{Path: "../x"}, "", "outside a cgroup"},
		{Config{}, "", "bad container id"},
		{Config{ID: "a/b"}, "", "bad container id"},
	}
	for _, tt := range tests {
		got, err := cgroupPath(tt.cfg)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("cgroupPath(%+v) = %q, %v; want %q, %q", tt.cfg, got, err, tt.want, tt.err)
		}
	}
	if _, err := cgroupPath(Config{Path: "user.slice:hako:x"}); !errors.Is(err, ErrSystemdPath) {
		t.Errorf("systemd path: %v", err)
	}
}

func TestLayoutDirs(t *testing.T) {
	l, err := parseMountinfo(strings.NewReader(hybridMountinfo +
		"50 31 0:40 /docker/abc /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"))
	if err != nil {
		t.Fatal(err)
	}
	l.own = map[string]string{"cpu": "/", "cpuacct": "/", "cpuset": "/", "memory": "/process_api/5f",
		"name=systemd": "/", "pids": "/docker/abc/init", "": "/"}
	tests := []struct {
		path string
		want map[string]string
	}{
		{"/hako/c1", map[string]string{"cpu": "/sys/fs/cgroup/cpu/hako/c1", "memory": "/sys/fs/cgroup/memory/hako/c1",
			"pids": "/sys/fs/cgroup/pids/hako/c1", "": "/sys/fs/cgroup/unified/hako/c1"}},
		// relative: under our own cgroup, seen from the mount's root
		{"sub/c1", map[string]string{"cpu": "/sys/fs/cgroup/cpu/sub/c1", "memory": "/sys/fs/cgroup/memory/process_api/5f/sub/c1",
			"pids": "/sys/fs/cgroup/pids/init/sub/c1", "": "/sys/fs/cgroup/unified/sub/c1"}},
	}
	for _, tt := range tests {
		got, err := l.dirs(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("dirs(%q)[%q] = %q, want %q", tt.path, k, got[k], v)
			}
		}
		if len(got) != 7 {
			t.Errorf("dirs(%q) has %d hierarchies, want 7: %v", tt.path, len(got), got)
		}
	}
	delete(l.own, "memory")
	if _, err := l.dirs("rel"); err == nil {
		t.Error("relative path without a /proc/self/cgroup entry accepted")
	}
}

// TestParseMountinfoHidden: rootlesskit mounts a new sysfs on /sys and a
// cgroup2 on it; the host's /sys and cgroup2 stay listed but are hidden,
// and a cgroup2 stacked on another hides it too.
func TestParseMountinfoHidden(t *testing.T) {
	text := `1 0 8:1 / / rw - ext4 /dev/vda rw
2 1 0:20 / /sys rw - sysfs sysfs rw
3 2 0:26 /old /sys/fs/cgroup rw - cgroup2 cgroup2 rw
4 2 0:21 / /sys rw - sysfs sysfs rw
5 4 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
6 1 0:27 / /mnt/a rw - cgroup2 cgroup2 rw
7 6 0:28 /top /mnt/a rw - cgroup2 cgroup2 rw
`
	l, err := parseMountinfo(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if l.unified == nil || l.unified.point != "/sys/fs/cgroup" || l.unified.root != "/" {
		t.Errorf("unified = %+v, want the visible cgroup2 on /sys/fs/cgroup (root /)", l.unified)
	}
	vis := visibleMounts([]mountNode{{1, 0, "/"}, {2, 1, "/sys"}, {3, 2, "/sys/fs/cgroup"}, {4, 2, "/sys"}, {5, 4, "/sys/fs/cgroup"}, {6, 1, "/mnt/a"}, {7, 6, "/mnt/a"}})
	want := []bool{true, false, false, true, true, false, true}
	for i := range want {
		if vis[i] != want[i] {
			t.Errorf("mount %d visible = %v, want %v", i+1, vis[i], want[i])
		}
	}
}
