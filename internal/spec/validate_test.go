package spec

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func ptr[T any](v T) *T { return &v }

func userns(s *specs.Spec) {
	ToRootless(s, 1000, 1000)
}

func TestValidate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(s *specs.Spec)
		want string // substring; "" means valid
	}{
		{"default", func(*specs.Spec) {}, ""},
		{"rootless", userns, ""},
		{"version empty", func(s *specs.Spec) { s.Version = "" }, "ociVersion: empty"},
		{"version 2", func(s *specs.Spec) { s.Version = "2.0.0" }, `ociVersion "2.0.0": unsupported version (hako supports 1.x)`},
		{"version junk", func(s *specs.Spec) { s.Version = "x" }, `ociVersion "x"`},
		{"version 1.0.2-dev", func(s *specs.Spec) { s.Version = "1.0.2-dev" }, ""},
		{"no process", func(s *specs.Spec) { s.Process = nil }, "process: missing"},
		{"no args", func(s *specs.Spec) { s.Process.Args = nil }, "process.args: empty"},
		{"relative cwd", func(s *specs.Spec) { s.Process.Cwd = "tmp" }, `process.cwd "tmp": not an absolute path`},
		{"empty cwd", func(s *specs.Spec) { s.Process.Cwd = "" }, `process.cwd "": not an absolute path`},
		{"oom", func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(1001) }, "process.oomScoreAdj: 1001 is outside -1000..1000"},
		{"no root", func(s *specs.Spec) { s.Root = nil }, "root: missing"},
		{"empty root", func(s *specs.Spec) { s.Root.Path = "" }, "root.path: empty"},
		{"missing root", func(s *specs.Spec) { s.Root.Path = "/nonexistent/rootfs" }, `root.path "/nonexistent/rootfs": no such directory`},
		{"root is file", func(s *specs.Spec) { s.Root.Path = file }, "not a directory"},
		{"hostname without uts", func(s *specs.Spec) { dropNS(s, "uts") }, `hostname "hako": needs a uts namespace`},
		{"domainname without uts", func(s *specs.Spec) { dropNS(s, "uts"); s.Hostname = ""; s.Domainname = "d" }, `domainname "d": needs a uts namespace`},
		{"no uts no hostname", func(s *specs.Spec) { dropNS(s, "uts"); s.Hostname = "" }, ""},
		{"no linux", func(s *specs.Spec) { s.Linux = nil; s.Hostname = "" }, ""},
		{"unknown ns", func(s *specs.Spec) { s.Linux.Namespaces[2].Type = "foo" }, `linux.namespaces[2]: unknown namespace type "foo"`},
		{"duplicate ns", func(s *specs.Spec) { addNS(s, "pid", "") }, `linux.namespaces[6]: duplicate namespace type "pid"`},
		{"relative ns path", func(s *specs.Spec) { s.Linux.Namespaces[0].Path = "proc/1/ns/pid" }, `pid namespace path "proc/1/ns/pid" is not absolute`},
		{"time ns", func(s *specs.Spec) { addNS(s, "time", "") }, ""},
		{"maps without userns", func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}, "linux.uidMappings/gidMappings: set, but linux.namespaces has no user namespace"},
		{"userns without maps", func(s *specs.Spec) { addNS(s, "user", "") }, "linux.uidMappings: empty, but a new user namespace needs one"},
		{"userns without gid map", func(s *specs.Spec) { userns(s); s.Linux.GIDMappings = nil }, "linux.gidMappings: empty"},
		{"joined userns", func(s *specs.Spec) { addNS(s, "user", "/proc/1/ns/user") }, ""},
		{"map size 0", func(s *specs.Spec) { userns(s); s.Linux.UIDMappings[0].Size = 0 }, "linux.uidMappings[0]: size 0"},
		{"map overflow", func(s *specs.Spec) {
			userns(s)
			s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: 0xffffffff, Size: 2})
		}, "linux.uidMappings[1]: range 1 4294967295 2 overflows 32-bit ids"},
		{"process uid unmapped", func(s *specs.Spec) { userns(s); s.Process.User.UID = 5 }, "process.user.uid: 5 is not mapped in the container's user namespace (linux.uidMappings: 0 1000 1)"},
		{"process gid unmapped", func(s *specs.Spec) { userns(s); s.Process.User.GID = 5 }, "process.user.gid: 5 is not mapped"},
		{"additional gid unmapped", func(s *specs.Spec) { userns(s); s.Process.User.AdditionalGids = []uint32{0, 7} }, "process.user.additionalGids[1]: 7 is not mapped"},
		{"devpts gid unmapped", func(s *specs.Spec) {
			userns(s)
			s.Linux.GIDMappings[0].HostID = 1000
			s.Mounts[2].Options = append(s.Mounts[2].Options, "gid=5")
		}, "mounts[2] (/dev/pts): devpts option gid=5: gid 5 is not mapped in the container's user namespace (linux.gidMappings: 0 1000 1); map gid 5 or drop the option"},
		{"devpts gid mapped", func(s *specs.Spec) {
			userns(s)
			s.Linux.GIDMappings = append(s.Linux.GIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: 100000, Size: 65536})
			s.Mounts[2].Options = append(s.Mounts[2].Options, "gid=5")
		}, ""},
		{"tmpfs uid unmapped", func(s *specs.Spec) { userns(s); s.Mounts[1].Options = append(s.Mounts[1].Options, "uid=1") }, "mounts[1] (/dev): tmpfs option uid=1: uid 1 is not mapped"},
		{"devpts gid junk", func(s *specs.Spec) { userns(s); s.Mounts[2].Options = append(s.Mounts[2].Options, "gid=x") }, "devpts option gid=x: not a number"},
		{"devpts gid without userns", func(*specs.Spec) {}, ""},
		{"bind with uid option", func(s *specs.Spec) {
			userns(s)
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Source: "/tmp", Options: []string{"bind", "uid=7"}})
		}, ""},
		{"empty destination", func(s *specs.Spec) { s.Mounts[0].Destination = "" }, "mounts[0]: destination empty"},
		{"relative destination", func(s *specs.Spec) { s.Mounts[0].Destination = "proc" }, ""},
		{"bind without source", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "bind"})
		}, "mounts[7] (/x): bind mount needs a source"},
		{"rlimit unknown", func(s *specs.Spec) { s.Process.Rlimits[0].Type = "RLIMIT_FOO" }, `process.rlimits[0]: unknown type "RLIMIT_FOO"`},
		{"rlimit soft>hard", func(s *specs.Spec) { s.Process.Rlimits[0].Soft = 2048 }, "process.rlimits[0] (RLIMIT_NOFILE): soft limit 2048 is above hard limit 1024"},
		{"rlimit dup", func(s *specs.Spec) { s.Process.Rlimits = append(s.Process.Rlimits, s.Process.Rlimits[0]) }, "process.rlimits[1] (RLIMIT_NOFILE): duplicate"},
		{"cap unknown", func(s *specs.Spec) {
			s.Process.Capabilities.Ambient = []string{"CAP_KILL", "CAP_FOO", "sys_admin"}
		}, `process.capabilities.ambient: unknown capabilities "CAP_FOO", "sys_admin"`},
		{"cap unknown bounding", func(s *specs.Spec) { s.Process.Capabilities.Bounding[1] = "CAP_BAR" }, `process.capabilities.bounding: unknown capabilities "CAP_BAR"`},
		{"cap newest", func(s *specs.Spec) { s.Process.Capabilities.Bounding[1] = "CAP_CHECKPOINT_RESTORE" }, ""},
		{"sysctl net", func(s *specs.Spec) { setSysctl(s, "net.ipv4.ip_forward") }, ""},
		{"sysctl net host", func(s *specs.Spec) { dropNS(s, "network"); setSysctl(s, "net.ipv4.ip_forward") }, `linux.sysctl["net.ipv4.ip_forward"]: needs a network namespace`},
		{"sysctl net joined host", func(s *specs.Spec) {
			s.Linux.Namespaces[1].Path = "/proc/self/ns/net"
			setSysctl(s, "net.core.somaxconn")
		}, `network namespace path "/proc/self/ns/net" is the host's`},
		{"sysctl net bad path", func(s *specs.Spec) {
			s.Linux.Namespaces[1].Path = "/nonexistent/net"
			setSysctl(s, "net.core.somaxconn")
		}, `network namespace path "/nonexistent/net": no such file or directory`},
		{"sysctl ipc", func(s *specs.Spec) { setSysctl(s, "kernel.shmmax"); setSysctl(s, "fs.mqueue.msg_max") }, ""},
		{"sysctl ipc host", func(s *specs.Spec) { dropNS(s, "ipc"); setSysctl(s, "kernel.shmmax") }, `linux.sysctl["kernel.shmmax"]: needs an ipc namespace`},
		{"sysctl mqueue host", func(s *specs.Spec) { dropNS(s, "ipc"); setSysctl(s, "fs.mqueue.msg_max") }, `linux.sysctl["fs.mqueue.msg_max"]: needs an ipc namespace`},
		{"sysctl domainname", func(s *specs.Spec) { setSysctl(s, "kernel.domainname") }, ""},
		{"sysctl hostname", func(s *specs.Spec) { setSysctl(s, "kernel.hostname") }, `linux.sysctl["kernel.hostname"]: conflicts with the "hostname" field`},
		{"sysctl domainname host", func(s *specs.Spec) { dropNS(s, "uts"); s.Hostname = ""; setSysctl(s, "kernel.domainname") }, "needs a uts namespace"},
		{"sysctl global", func(s *specs.Spec) { setSysctl(s, "vm.swappiness") }, `linux.sysctl["vm.swappiness"]: not in a namespace the container has its own of`},
		{"cgroupsPath ok", func(s *specs.Spec) { s.Linux.CgroupsPath = "/hako/c1" }, ""},
		{"cgroupsPath relative", func(s *specs.Spec) { s.Linux.CgroupsPath = "hako/c1" }, ""},
		{"cgroupsPath systemd", func(s *specs.Spec) { s.Linux.CgroupsPath = "system.slice:hako:c1" }, ""},
		{"cgroupsPath dotdot", func(s *specs.Spec) { s.Linux.CgroupsPath = "../../etc" }, `linux.cgroupsPath "../../etc": contains ".."`},
		{"cgroupsPath nul", func(s *specs.Spec) { s.Linux.CgroupsPath = "a\x00b" }, "contains a NUL byte"},
		{"cgroupsPath systemd parts", func(s *specs.Spec) { s.Linux.CgroupsPath = "a:b" }, `systemd form must be "slice:prefix:name"`},
		{"cgroupsPath systemd slash", func(s *specs.Spec) { s.Linux.CgroupsPath = "a.slice:b:c/d" }, `cannot contain "/"`},
		{"timeOffsets", func(s *specs.Spec) {
			addNS(s, "time", "")
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 5}, "boottime": {Nanosecs: 5}}
		}, ""},
		{"timeOffsets no ns", func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 5}}
		}, "linux.timeOffsets: needs a time namespace"},
		{"timeOffsets joined", func(s *specs.Spec) {
			addNS(s, "time", "/proc/1/ns/time")
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 5}}
		}, `cannot set offsets of the joined time namespace "/proc/1/ns/time"`},
		{"timeOffsets bad clock", func(s *specs.Spec) {
			addNS(s, "time", "")
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 5}}
		}, `linux.timeOffsets["realtime"]: unknown clock`},
		{"timeOffsets nanosecs", func(s *specs.Spec) {
			addNS(s, "time", "")
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Nanosecs: 1e9}}
		}, `linux.timeOffsets["boottime"].nanosecs: 1000000000 is not below 1e9`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validBase(t)
			tt.edit(s)
			err := Validate(s)
			checkErr(t, err, tt.want)
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
		})
	}
}

// TestValidateAll checks that every problem is reported, not just the first.
func TestValidateAll(t *testing.T) {
	s := validBase(t)
	s.Process.Args = nil
	s.Linux.Namespaces[0].Type = "bogus"
	err := Validate(s)
	checkErr(t, err, "process.args: empty")
	checkErr(t, err, `linux.namespaces[0]: unknown namespace type "bogus"`)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "process.args" {
		t.Fatalf("errors.As FieldError = %+v", fe)
	}
}

func TestValidateNil(t *testing.T) {
	checkErr(t, Validate(nil), "config: missing")
}

func dropNS(s *specs.Spec, typ specs.LinuxNamespaceType) {
	var out []specs.LinuxNamespace
	for _, ns := range s.Linux.Namespaces {
		if ns.Type != typ {
			out = append(out, ns)
		}
	}
	s.Linux.Namespaces = out
}

func addNS(s *specs.Spec, typ specs.LinuxNamespaceType, path string) {
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: typ, Path: path})
}

func setSysctl(s *specs.Spec, key string) {
	if s.Linux.Sysctl == nil {
		s.Linux.Sysctl = map[string]string{}
	}
	s.Linux.Sysctl[key] = "1"
}
