package spec

import (
	"encoding/json"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// validBase is Default with root.path pointing at a real directory.
func validBase(t *testing.T) *specs.Spec {
	t.Helper()
	s := Default()
	s.Root.Path = t.TempDir()
	return s
}

func TestDefaultIsValid(t *testing.T) {
	if err := Validate(validBase(t)); err != nil {
		t.Fatalf("Validate(Default()): %v", err)
	}
}

func TestDefaultFields(t *testing.T) {
	s := Default()
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	checks := []struct {
		name string
		ok   bool
	}{
		{"ociVersion", s.Version == specs.Version},
		{"terminal", s.Process.Terminal},
		{"args", slices.Equal(s.Process.Args, []string{"sh"})},
		{"user", s.Process.User.UID == 0 && s.Process.User.GID == 0},
		{"cwd", s.Process.Cwd == "/"},
		{"env", len(s.Process.Env) == 2 && s.Process.Env[1] == "TERM=xterm"},
		{"noNewPrivileges", s.Process.NoNewPrivileges},
		{"bounding", slices.Equal(s.Process.Capabilities.Bounding, caps)},
		{"effective", slices.Equal(s.Process.Capabilities.Effective, caps)},
		{"permitted", slices.Equal(s.Process.Capabilities.Permitted, caps)},
		{"no ambient/inheritable", s.Process.Capabilities.Ambient == nil && s.Process.Capabilities.Inheritable == nil},
		{"rlimit", s.Process.Rlimits[0] == specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
		{"root", *s.Root == specs.Root{Path: "rootfs", Readonly: true}},
		{"hostname", s.Hostname == "hako"},
		{"mounts", len(s.Mounts) == 7 && s.Mounts[2].Destination == "/dev/pts"},
		{"devices", len(s.Linux.Resources.Devices) == 1 && s.Linux.Resources.Devices[0].Access == "rwm" && !s.Linux.Resources.Devices[0].Allow},
		{"namespaces", len(s.Linux.Namespaces) == 6 && s.Linux.Namespaces[5].Type == specs.CgroupNamespace},
		{"maskedPaths", len(s.Linux.MaskedPaths) == 10 && slices.Contains(s.Linux.MaskedPaths, "/proc/kcore")},
		{"readonlyPaths", slices.Contains(s.Linux.ReadonlyPaths, "/proc/sysrq-trigger")},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("Default(): wrong %s", c.name)
		}
	}
}

// TestDefaultIndependent checks that callers editing one set of
// capabilities do not edit the others through a shared slice.
func TestDefaultIndependent(t *testing.T) {
	s := Default()
	s.Process.Capabilities.Bounding[0] = "CAP_SYS_ADMIN"
	if s.Process.Capabilities.Effective[0] != "CAP_AUDIT_WRITE" {
		t.Fatal("bounding and effective share storage")
	}
	if Default().Process.Capabilities.Bounding[0] != "CAP_AUDIT_WRITE" {
		t.Fatal("Default() returns shared state")
	}
}

func TestDefaultJSONRoundTrip(t *testing.T) {
	b, err := json.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	var got specs.Spec
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Mounts[1].Options[3] != "size=65536k" || got.Hostname != "hako" {
		t.Fatalf("round trip lost data: %s", b)
	}
}

func TestToRootless(t *testing.T) {
	s := validBase(t)
	ToRootless(s, 1000, 1001)
	var types []specs.LinuxNamespaceType
	for _, ns := range s.Linux.Namespaces {
		types = append(types, ns.Type)
	}
	want := []specs.LinuxNamespaceType{"pid", "ipc", "uts", "mount", "cgroup", "user"}
	if !slices.Equal(types, want) {
		t.Errorf("namespaces = %v, want %v", types, want)
	}
	if m := s.Linux.UIDMappings; len(m) != 1 || m[0] != (specs.LinuxIDMapping{ContainerID: 0, HostID: 1000, Size: 1}) {
		t.Errorf("uidMappings = %v", m)
	}
	if m := s.Linux.GIDMappings; len(m) != 1 || m[0] != (specs.LinuxIDMapping{ContainerID: 0, HostID: 1001, Size: 1}) {
		t.Errorf("gidMappings = %v", m)
	}
	if s.Linux.Resources != nil {
		t.Error("resources kept")
	}
	for _, m := range s.Mounts {
		if slices.ContainsFunc(m.Options, func(o string) bool { return o == "gid=5" }) {
			t.Errorf("%s keeps gid=5", m.Destination)
		}
		if m.Destination == "/sys" {
			want := specs.Mount{Destination: "/sys", Type: "none", Source: "/sys",
				Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
			if m.Source != want.Source || m.Type != want.Type || !slices.Equal(m.Options, want.Options) {
				t.Errorf("/sys mount = %+v", m)
			}
		}
	}
	if err := Validate(s); err != nil {
		t.Fatalf("rootless spec invalid: %v", err)
	}
}

func TestToRootlessIdempotent(t *testing.T) {
	s := Default()
	ToRootless(s, 1, 1)
	ToRootless(s, 1, 1)
	n := 0
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d user namespaces after two ToRootless", n)
	}
}

func TestToRootlessNilLinux(t *testing.T) {
	s := &specs.Spec{}
	ToRootless(s, 0, 0)
	if s.Linux == nil || len(s.Linux.Namespaces) != 1 {
		t.Fatalf("linux = %+v", s.Linux)
	}
}
