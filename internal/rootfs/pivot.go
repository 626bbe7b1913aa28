package rootfs

import (
	"golang.org/x/sys/unix"
)

// Pivot makes the rootfs the process's root. pivot_root(".", ".") stacks
// the old root under the new one; detaching it (after making it a slave so
// the unmount cannot propagate to the host) leaves no way back out. With
// NoPivot it moves the rootfs over / and chroots, which a process with
// CAP_SYS_CHROOT could escape: only for roots on ramfs, where pivot_root
// cannot work.
func (b *Builder) Pivot() error {
	if b.cfg.NoPivot {
		return b.log.Step("chroot", "MS_MOVE "+b.cfg.Rootfs+" to / + chroot (--no-pivot)", b.moveChroot)
	}
	return b.log.Step("pivot_root", b.cfg.Rootfs, b.pivot)
}

func (b *Builder) pivot() error {
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(oldroot)
	if err := unix.Fchdir(int(b.root.Fd())); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return err
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return err
	}
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return err
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return err
	}
	return unix.Chdir("/")
}

func (b *Builder) moveChroot() error {
	if err := unix.Fchdir(int(b.root.Fd())); err != nil {
		return err
	}
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return err
	}
	if err := unix.Chroot("."); err != nil {
		return err
	}
	return unix.Chdir("/")
}
