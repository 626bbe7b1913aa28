package spec

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestValidateID(t *testing.T) {
	tests := []struct {
		id, want string
	}{
		{"abc", ""},
		{"a.b_c-d+e", ""},
		{"C0FFEE", ""},
		{"...", ""},
		{strings.Repeat("a", 1024), ""},
		{strings.Repeat("a", 1025), "container id is 1025 bytes long, more than 1024"},
		{"", "container id is empty"},
		{".", `invalid container id "."`},
		{"..", `invalid container id ".."`},
		{"a/b", `invalid container id "a/b": character '/' at 1`},
		{"a\x00", `character '\x00' at 1`},
		{"a b", `character ' ' at 1`},
		{"a,b", `character ','`},
		{"é", "invalid container id"},
		{"../x", "invalid container id"},
	}
	for _, tt := range tests {
		checkErrNamed(t, "ValidateID("+strings.ToValidUTF8(tt.id[:min(len(tt.id), 10)], "?")+")", ValidateID(tt.id), tt.want)
	}
}

func TestParseMountOptions(t *testing.T) {
	tests := []struct {
		name string
		opts string // comma-separated, as in fstab
		want MountOptions
	}{
		{"empty", "", MountOptions{}},
		{"default dev", "nosuid,strictatime,mode=755,size=65536k",
			MountOptions{Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: []string{"mode=755", "size=65536k"}}},
		{"devpts", "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5",
			MountOptions{Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: []string{"newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
		{"ro then rw", "ro,rw", MountOptions{ClearFlags: unix.MS_RDONLY}},
		{"rw then ro", "rw,ro", MountOptions{Flags: unix.MS_RDONLY}},
		{"clears", "suid,dev,exec,async,atime,diratime,norelatime,nostrictatime,nolazytime",
			MountOptions{ClearFlags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_SYNCHRONOUS |
				unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME | unix.MS_LAZYTIME}},
		{"sets", "sync,dirsync,remount,mand,noatime,nodiratime,relatime,lazytime,silent,nodev",
			MountOptions{Flags: unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC | unix.MS_REMOUNT | unix.MS_MANDLOCK |
				unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_LAZYTIME | unix.MS_SILENT | unix.MS_NODEV}},
		{"bind", "bind", MountOptions{Flags: unix.MS_BIND}},
		{"rbind", "rbind,ro", MountOptions{Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, Recursive: true}},
		{"defaults", "defaults", MountOptions{}},
		{"propagation order", "rslave,private,runbindable",
			MountOptions{Propagation: []uintptr{unix.MS_SLAVE | unix.MS_REC, unix.MS_PRIVATE, unix.MS_UNBINDABLE | unix.MS_REC}}},
		{"shared", "shared,rshared,rprivate,slave,unbindable",
			MountOptions{Propagation: []uintptr{unix.MS_SHARED, unix.MS_SHARED | unix.MS_REC, unix.MS_PRIVATE | unix.MS_REC, unix.MS_SLAVE, unix.MS_UNBINDABLE}}},
		{"rec attrs", "rro,rnosuid,rnodev,rnoexec,rnodiratime,rnosymfollow",
			MountOptions{RecAttrSet: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV |
				unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW}},
		{"rec clears", "rro,rrw,rsuid,rdev,rexec", MountOptions{RecAttrClr: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID |
			unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC}},
		{"rnoatime", "rnoatime", MountOptions{RecAttrSet: unix.MOUNT_ATTR_NOATIME, RecAttrClr: unix.MOUNT_ATTR__ATIME}},
		{"rstrictatime", "rnoatime,rstrictatime", MountOptions{RecAttrSet: unix.MOUNT_ATTR_STRICTATIME, RecAttrClr: unix.MOUNT_ATTR__ATIME}},
		{"rrelatime", "rnoatime,rrelatime", MountOptions{RecAttrSet: unix.MOUNT_ATTR_RELATIME, RecAttrClr: unix.MOUNT_ATTR__ATIME}},
		{"ratime", "rnoatime,ratime", MountOptions{RecAttrClr: unix.MOUNT_ATTR__ATIME}},
		{"rnorelatime", "rnorelatime", MountOptions{RecAttrSet: unix.MOUNT_ATTR_STRICTATIME, RecAttrClr: unix.MOUNT_ATTR__ATIME}},
		{"idmap", "idmap", MountOptions{IDMap: true}},
		{"ridmap", "rbind,ridmap", MountOptions{Flags: unix.MS_BIND | unix.MS_REC, Recursive: true, IDMap: true, IDMapRec: true}},
		{"tmpcopyup", "tmpcopyup,mode=700", MountOptions{CopyUp: true, Data: []string{"mode=700"}}},
		{"empty items", ",,ro,", MountOptions{Flags: unix.MS_RDONLY}},
		{"unknown kept in order", "foo,ro,bar=1", MountOptions{Flags: unix.MS_RDONLY, Data: []string{"foo", "bar=1"}}},
		{"case sensitive", "RO", MountOptions{Data: []string{"RO"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseMountOptions(strings.Split(tt.opts, ","))
			if !mountOptsEqual(got, tt.want) {
				t.Fatalf("ParseMountOptions(%q) =\n%+v\nwant\n%+v", tt.opts, got, tt.want)
			}
		})
	}
}

func mountOptsEqual(a, b MountOptions) bool {
	return a.Flags == b.Flags && a.ClearFlags == b.ClearFlags &&
		slices.Equal(a.Propagation, b.Propagation) &&
		a.RecAttrSet == b.RecAttrSet && a.RecAttrClr == b.RecAttrClr &&
		slices.Equal(a.Data, b.Data) && a.IDMap == b.IDMap && a.IDMapRec == b.IDMapRec &&
		a.Recursive == b.Recursive && a.CopyUp == b.CopyUp
}

func TestDataString(t *testing.T) {
	for in, want := range map[string]string{
		"":                             "",
		"ro":                           "",
		"mode=755,ro,size=65536k":      "mode=755,size=65536k",
		"newinstance,ptmxmode=0666,rw": "newinstance,ptmxmode=0666",
	} {
		if got := ParseMountOptions(strings.Split(in, ",")).DataString(); got != want {
			t.Errorf("DataString(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in      string
		want    unix.Signal
		wantErr string
	}{
		{"TERM", unix.SIGTERM, ""},
		{"SIGTERM", unix.SIGTERM, ""},
		{"sigterm", unix.SIGTERM, ""},
		{"term", unix.SIGTERM, ""},
		{"15", unix.SIGTERM, ""},
		{"9", unix.SIGKILL, ""},
		{"KILL", unix.SIGKILL, ""},
		{"SIGWINCH", unix.SIGWINCH, ""},
		{"IOT", unix.SIGABRT, ""},
		{"CLD", unix.SIGCHLD, ""},
		{"POLL", unix.SIGIO, ""},
		{"1", unix.SIGHUP, ""},
		{"64", 64, ""},
		{"SIGRTMIN", 34, ""},
		{"SIGRTMIN+3", 37, ""},
		{"rtmin+30", 64, ""},
		{"RTMAX", 64, ""},
		{"RTMAX-1", 63, ""},
		{"SIGRTMAX-30", 34, ""},
		{"SIGRTMIN+31", 0, `unknown signal "SIGRTMIN+31"`},
		{"RTMAX+1", 0, "unknown signal"},
		{"RTMIN-1", 0, "unknown signal"},
		{"RTMIN+", 0, "unknown signal"},
		{"RTMIN+-1", 0, "unknown signal"},
		{"RTMIN++1", 0, "unknown signal"},
		{"RTMIN+1x", 0, "unknown signal"},
		{"0", 0, "signal 0 out of range 1-64"},
		{"65", 0, "signal 65 out of range 1-64"},
		{"-9", 0, "signal -9 out of range 1-64"},
		{"", 0, `unknown signal ""`},
		{"SIG", 0, `unknown signal "SIG"`},
		{"FOO", 0, `unknown signal "FOO"`},
		{" TERM", 0, "unknown signal"},
		{"99999999999999999999", 0, "unknown signal"},
	}
	for _, tt := range tests {
		got, err := ParseSignal(tt.in)
		checkErrNamed(t, "ParseSignal("+tt.in+")", err, tt.wantErr)
		if got != tt.want {
			t.Errorf("ParseSignal(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// The capability names config.json may use are every one x/sys knows.
func TestCapabilityTable(t *testing.T) {
	if len(capabilities) != unix.CAP_LAST_CAP+1 {
		t.Errorf("capability table has %d names, x/sys knows %d", len(capabilities), unix.CAP_LAST_CAP+1)
	}
	if !knownCap("CAP_BPF") || knownCap("cap_sys_admin") || knownCap("SYS_ADMIN") {
		t.Error("knownCap")
	}
}

func TestRlimitValue(t *testing.T) {
	tests := []struct {
		name    string
		want    int
		wantErr string
	}{
		{"RLIMIT_NOFILE", unix.RLIMIT_NOFILE, ""},
		{"RLIMIT_NPROC", unix.RLIMIT_NPROC, ""},
		{"RLIMIT_CPU", unix.RLIMIT_CPU, ""},
		{"RLIMIT_RTTIME", unix.RLIMIT_RTTIME, ""},
		{"rlimit_nofile", 0, `unknown rlimit "rlimit_nofile"`},
		{"NOFILE", 0, `unknown rlimit "NOFILE"`},
		{"", 0, `unknown rlimit ""`},
	}
	for _, tt := range tests {
		got, err := RlimitValue(tt.name)
		checkErrNamed(t, "RlimitValue("+tt.name+")", err, tt.wantErr)
		if got != tt.want {
			t.Errorf("RlimitValue(%q) = %d, want %d", tt.name, got, tt.want)
		}
	}
	if len(rlimits) != 16 {
		t.Errorf("%d rlimits, Linux has 16", len(rlimits))
	}
}

func checkErrNamed(t *testing.T, name string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: unexpected error: %v", name, err)
	case want != "" && err == nil:
		t.Errorf("%s: no error, want %q", name, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s: error %q does not contain %q", name, err, want)
	}
}
