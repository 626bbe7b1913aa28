package container

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// sealedSelf returns a handle to hako's own binary on a private, detached,
// read-only mount (open_tree(OPEN_TREE_CLONE) + mount_setattr(RDONLY)).
// Init is executed through it, so /proc/<init>/exe, which a container
// process can reach (e.g. by making its /bin/sh a "#!/proc/self/exe" script),
// names a file that cannot be opened for writing: the host's hako binary
// can't be overwritten from inside (CVE-2019-5736). It costs two syscalls
// per process, not a copy of the binary, and leaves no mount anywhere.
//
// It returns nil where the caller may not create mounts (rootless): there
// the binary belongs to root and the container's root (the user) cannot
// write it anyway.
var sealedSelf = sync.OnceValue(func() *os.File {
	fd, err := unix.OpenTree(unix.AT_FDCWD, "/proc/self/exe", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return nil
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
		unix.Close(fd)
		return nil
	}
	return os.NewFile(uintptr(fd), "hako (sealed)")
})

// initPath sets cmd's program to the sealed binary when there is one: it is
// passed as an extra fd and executed as /proc/self/fd/N.
func initPath(extra *[]*os.File) string {
	f := sealedSelf()
	if f == nil {
		return "/proc/self/exe"
	}
	*extra = append(*extra, f)
	return "/proc/self/fd/" + itoa(2+len(*extra))
}

func itoa(n int) string {
	b := []byte{}
	for ; n > 0 || len(b) == 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
