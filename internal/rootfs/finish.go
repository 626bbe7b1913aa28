package rootfs

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// Finish runs after pivot_root: masked paths, readonly paths, then the
// read-only root last, so the steps before it can still create files.
func (b *Builder) Finish() error {
	if err := b.enterFdDir(); err != nil {
		return err
	}
	defer unix.Chdir("/")
	l := b.cfg.Spec.Linux
	if p := l.RootfsPropagation; p != "" {
		flag := propagation[p]
		if err := b.log.Step("mount", "/ propagation "+p+" (linux.rootfsPropagation)", func() error {
			return unix.Mount("", "/", "", flag, "")
		}); err != nil {
			return err
		}
	}
	if len(l.MaskedPaths) > 0 {
		if err := b.maskPaths(l.MaskedPaths); err != nil {
			return err
		}
	}
	for _, p := range l.ReadonlyPaths {
		if err := b.readonlyPath(p); err != nil {
			return err
		}
	}
	if b.cfg.Spec.Root.Readonly {
		return b.remount("/", unix.MS_RDONLY, "/ read-only (root.readonly)")
	}
	return nil
}

// maskPaths hides files behind the container's /dev/null and directories
// behind an empty read-only tmpfs. /dev/null is checked to be the real null
// device first: a rootfs that made it a symlink or another file could
// otherwise turn "masking" into exposing (CVE-2025-31133).
func (b *Builder) maskPaths(paths []string) error {
	null, err := openNull()
	if err != nil {
		return b.log.Step("mask", "open /dev/null", func() error { return err })
	}
	defer null.Close()
	for _, p := range paths {
		if err := b.maskPath(p, null); err != nil {
			return err
		}
	}
	return nil
}

func openNull() (*os.File, error) {
	f, err := os.OpenFile("/dev/null", unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		f.Close()
		return nil, errors.New("/dev/null is not the null device (char 1:3)")
	}
	return f, nil
}

func (b *Builder) maskPath(p string, null *os.File) error {
	t, err := os.OpenFile(p, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return b.log.Step("mask", p, func() error { return err })
	}
	defer t.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(t.Fd()), &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return b.log.Step("mask", p+" (empty read-only tmpfs)", func() error {
			return unix.Mount("tmpfs", fdPath(t), "tmpfs", unix.MS_RDONLY, WithLabel("", b.cfg.Spec.Linux.MountLabel))
		})
	}
	return b.log.Step("mask", p+" (bind /dev/null)", func() error {
		return unix.Mount(fdPath(null), fdPath(t), "", unix.MS_BIND, "")
	})
}

// readonlyPath binds p onto itself and remounts the bind read-only, both
// through an fd of p (see fdPath).
func (b *Builder) readonlyPath(p string) error {
	t, err := os.OpenFile(p, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return b.log.Step("mount", "bind "+p+" on itself (readonly path)", func() error { return err })
	}
	defer t.Close()
	if err := b.log.Step("mount", "bind "+p+" on itself (readonly path)", func() error {
		return unix.Mount(fdPath(t), fdPath(t), "", unix.MS_BIND|unix.MS_REC, "")
	}); err != nil {
		return err
	}
	// The handle is below the new bind: take the bind itself to remount it.
	t2, err := os.OpenFile(p, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer t2.Close()
	return b.remount(fdPath(t2), unix.MS_RDONLY|unix.MS_REC, p+" read-only")
}

// parentMount finds the mount point holding path and whether it is shared.
func parentMount(path string) (string, bool, error) {
	mounts, err := mountinfo.GetMounts(mountinfo.ParentsFilter(path))
	if err != nil {
		return "", false, fmt.Errorf("read mountinfo: %w", err)
	}
	best := &mountinfo.Info{}
	for _, m := range mounts {
		if len(m.Mountpoint) > len(best.Mountpoint) && m.Mountpoint != path {
			best = m
		}
	}
	return best.Mountpoint, strings.Contains(best.Optional, "shared:"), nil
}
