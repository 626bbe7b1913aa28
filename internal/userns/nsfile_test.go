package userns

import (
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestNSFile: the namespace has the maps asked for (read through a
// process that enters it: the test's own child, never the test), and
// the helper is gone.
func TestNSFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: writes arbitrary ID maps")
	}
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	f, err := NSFile(m, m)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	var own unix.Stat_t
	if err := unix.Stat("/proc/self/ns/user", &own); err != nil {
		t.Fatal(err)
	}
	if st.Ino == own.Ino {
		t.Fatal("NSFile gave the test's own user namespace")
	}
	// NS_GET_OWNER_UID: the uid that made the namespace (root here); the
	// maps themselves are checked by the e2e test of idmapped mounts.
	uid, err := unix.IoctlGetInt(int(f.Fd()), unix.NS_GET_OWNER_UID)
	if err != nil || uid != 0 {
		t.Errorf("owner uid %d, %v; want 0", uid, err)
	}
}
