package container

import (
	"os"
	"os/exec"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"hako/internal/nsenter"
	"hako/internal/rawfile"
	"hako/internal/trace"
)

// sealedSelf returns a handle to hako's own binary on a private, detached,
// read-only mount (open_tree(OPEN_TREE_CLONE) + mount_setattr(RDONLY)).
// The Go init (for what a plan cannot express) is executed through it, so
// /proc/<init>/exe, which a container process can reach (e.g. by making
// its /bin/sh a "#!/proc/self/exe" script), names a file that cannot be
// opened for writing: the host's hako binary can't be overwritten from
// inside (CVE-2019-5736). It costs two syscalls per process, not a copy of
// the binary, and leaves no mount anywhere. hako-init, the usual init, is
// a sealed memfd instead (nsenter.Init).
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

// initProgram sets cmd's program. hako-init (nsenter.Init, a sealed memfd)
// runs a plan and joins namespaces; the Go init, for what a plan cannot
// express, is hako itself, executed through its sealed view: directly when
// no namespace must be joined first, else by hako-init once it has joined
// them (_HAKO_GOINIT names the fd).
func initProgram(log *trace.Log, cmd *exec.Cmd, plan, nsenterFirst bool) error {
	if !plan && !nsenterFirst {
		if f := sealedSelf(); f != nil {
			cmd.ExtraFiles = append(cmd.ExtraFiles, f)
			cmd.Path = "/proc/self/fd/" + strconv.Itoa(2+len(cmd.ExtraFiles))
		} else {
			cmd.Path = "/proc/self/exe"
		}
		return nil
	}
	var f *os.File
	if err := log.Step("hako-init", "memfd_create, write the embedded program, F_ADD_SEALS write|grow|shrink|seal (once per hako process)", func() (err error) {
		f, err = nsenter.Init()
		return err
	}); err != nil {
		return err
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	cmd.Path = "/proc/self/fd/" + strconv.Itoa(2+len(cmd.ExtraFiles))
	if plan {
		return nil
	}
	g := sealedSelf()
	if g == nil {
		var err error
		if g, err = rawfile.Open("/proc/self/exe", os.O_RDONLY); err != nil {
			return err
		}
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, g)
	cmd.Env = append(cmd.Env, "_HAKO_GOINIT="+strconv.Itoa(2+len(cmd.ExtraFiles)))
	return nil
}

// kept reports whether f stays open for later spawns of this process.
func kept(f *os.File) bool {
	if f == sealedSelf() {
		return true
	}
	i, _ := nsenter.Init()
	return f == i
}
