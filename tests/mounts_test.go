package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestTmpcopyup: a tmpfs with tmpcopyup (runc's extension; podman sets
// it on /run, /tmp and /var/log of systemd containers) holds a copy of
// the directory it covers, owners and modes kept, and writing there
// leaves the image alone.
func TestTmpcopyup(t *testing.T) {
	t.Parallel()
	c := newCtr(t, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/etc", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "nosuid", "mode=755"}})
	})
	etc := filepath.Join(c.bundle, "rootfs/etc")
	if err := os.WriteFile(filepath.Join(etc, "copyup"), []byte("from the image\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(etc, "copyup"), 7, 8); err != nil {
		t.Fatal(err)
	}
	out := c.sh("stat -c '%u:%g %a' /etc/copyup; cat /etc/passwd | head -1; echo new > /etc/new; grep ' /etc ' /proc/self/mountinfo")
	lines := strings.SplitN(out, "\n", 3)
	passwd, _ := os.ReadFile(filepath.Join(etc, "passwd"))
	first, _, _ := strings.Cut(string(passwd), "\n")
	if len(lines) < 3 || lines[0] != "7:8 640" || lines[1] != first {
		t.Errorf("the copy in the container: %q; want 7:8 640 and the image's passwd (%q)", out, first)
	}
	mi := parseMountinfo(lines[2])
	if m := mi["/etc"]; m.fstype != "tmpfs" || !m.opts["nosuid"] {
		t.Errorf("/etc is %+v, want a nosuid tmpfs", m)
	}
	if _, err := os.Stat(filepath.Join(etc, "new")); err == nil {
		t.Error("a write to the tmpfs went to the image's /etc")
	}
}

// TestIDMappedMount: a bind mount with uidMappings/gidMappings shows the
// source's files through the mapping (runc's idmapped mounts): host
// 1000:1000 is 101000:201000 with maps 0 -> 100000 and 0 -> 200000. With
// option idmap and no mappings, the container's user namespace's are
// taken: host root's file is root's inside. Nothing of hako's helper
// user namespace is left (ctr's cleanup checks the processes).
func TestIDMappedMount(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	os.Chmod(src, 0o755)
	for _, f := range []struct {
		name     string
		uid, gid int
	}{{"user", 1000, 1000}, {"root", 0, 0}} {
		if err := os.WriteFile(filepath.Join(src, f.name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(filepath.Join(src, f.name), f.uid, f.gid); err != nil {
			t.Fatal(err)
		}
	}
	maps := func(host uint32) []specs.LinuxIDMapping {
		return []specs.LinuxIDMapping{{ContainerID: 0, HostID: host, Size: 65536}}
	}
	c := newCtr(t, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: []string{"rbind", "ro"},
			UIDMappings: maps(100000), GIDMappings: maps(200000)})
	})
	out := c.sh("stat -c '%n %u:%g' /data/user /data/root; touch /data/x 2>/dev/null || echo read-only; grep -c idmapped /proc/self/mountinfo")
	if want := "/data/user 101000:201000\n/data/root 100000:200000\nread-only\n1\n"; out != want {
		t.Errorf("through the idmapped mount: %q, want %q", out, want)
	}
	c = newCtr(t, func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings, s.Linux.GIDMappings = maps(100000), maps(100000)
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: []string{"bind", "idmap"}})
	})
	// The mount point exists: the container's root may not create it in
	// a rootfs owned by host root.
	if err := os.Mkdir(filepath.Join(c.bundle, "rootfs/data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out := c.sh("stat -c '%n %u:%g' /data/root /data/user"); out != "/data/root 0:0\n/data/user 1000:1000\n" {
		t.Errorf("idmap with the container's user namespace: %q, want root's file as 0:0, 1000's as 1000:1000", out)
	}
	// Bad input: a clear error, nothing left (ctr's cleanup checks).
	c = newCtr(t, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: []string{"bind", "idmap"}})
	})
	if r := c.run(); r.code == 0 || !strings.Contains(r.err, "takes the container's user namespace, and it has none") {
		t.Errorf("idmap without mappings nor a user namespace: %s", r)
	}
}
