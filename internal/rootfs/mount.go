package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/lsm"
	"hako/internal/spec"
)

// lockedFlags are the flags a less privileged mount namespace may not clear
// on a mount it inherited (mount_namespaces(7), "locked mounts").
const lockedFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME

// mount performs one entry of config.json's mounts.
func (b *Builder) mount(m *specs.Mount) error {
	desc := MountDesc(m)
	if !filepath.IsAbs(m.Destination) {
		return b.log.Step("mount", desc, func() error {
			return fmt.Errorf("destination %q is not absolute", m.Destination)
		})
	}
	switch {
	case IsBind(m):
		return b.bindMount(m, desc)
	case m.Type == "cgroup" || m.Type == "cgroup2":
		return b.mountCgroup(m, desc)
	}
	target, err := b.target(m, true)
	if err != nil {
		return b.log.Step("mount", desc, func() error { return err })
	}
	defer target.Close()
	o := specOpts(m)
	flags := o.Flags &^ (unix.MS_BIND | unix.MS_REC)
	label := b.cfg.Spec.Linux.MountLabel
	data := MountData(m, o.DataString(), label)
	if data != o.DataString() {
		desc = LabelDesc(desc, label)
	}
	err = b.log.Step("mount", desc, func() error {
		return unix.Mount(m.Source, fdPath(target), m.Type, flags, data)
	})
	if errors.Is(err, unix.EPERM) && m.Type == "sysfs" && b.cfg.UserNS {
		// The kernel lets a user namespace mount sysfs only together with a
		// network namespace it owns; a bind of the host's /sys is what runc's
		// rootless spec does instead.
		b.log.Note("fallback", "sysfs not mountable in this user namespace: rbind /sys on "+m.Destination)
		err = b.bindMount(&specs.Mount{Destination: m.Destination, Type: "bind", Source: "/sys",
			Options: append([]string{"rbind"}, m.Options...)}, desc+" as rbind /sys")
	}
	if err != nil {
		return err
	}
	if XattrLabel(m, label) && lsm.SELinuxEnabled() {
		if err := b.xattrLabel(m.Destination, label); err != nil {
			return err
		}
	}
	return b.applyPropagation(m, nil)
}

// xattrLabel labels the root of the filesystem just mounted on dest (see
// XattrLabel), through an fd of it.
func (b *Builder) xattrLabel(dest, label string) error {
	t, err := b.reopen(dest)
	if err != nil {
		return err
	}
	defer t.Close()
	return b.log.Step("setxattr", dest+" "+SELinuxXattr+"="+label+" (linux.mountLabel)", func() error {
		return unix.Setxattr(fdPath(t), SELinuxXattr, []byte(label), 0)
	})
}

// target resolves (and creates) the mount point of m inside the rootfs.
// procfs and sysfs are refused on anything but a real directory at exactly
// the configured path: a symlink there is how CVE-2019-16884/CVE-2019-19921
// style attacks redirect them.
func (b *Builder) target(m *specs.Mount, dir bool) (*os.File, error) {
	var f *os.File
	var err error
	if dir {
		f, err = b.openDir(m.Destination, 0o755)
	} else {
		f, err = b.openFile(m.Destination)
	}
	if err != nil {
		return nil, fmt.Errorf("resolve %s in rootfs: %w", m.Destination, err)
	}
	if m.Type == "proc" || m.Type == "sysfs" {
		if got := b.inRootPath(f); got != filepath.Clean(m.Destination) {
			f.Close()
			return nil, fmt.Errorf("%s is a symlink to %s: %s must be mounted on a real directory", m.Destination, got, m.Type)
		}
	}
	return f, nil
}

// bindMount binds m.Source (a host path; relative means relative to the
// bundle, init's working directory) onto the destination, then remounts to
// apply flags, since MS_BIND ignores all flags but MS_REC.
func (b *Builder) bindMount(m *specs.Mount, desc string) error {
	src := m.Source
	if !filepath.IsAbs(src) {
		src = filepath.Join(b.cfg.Bundle, src)
	}
	st, err := os.Stat(src)
	if err != nil {
		return b.log.Step("mount", desc, func() error { return fmt.Errorf("bind source: %w", err) })
	}
	target, err := b.target(m, st.IsDir())
	if err != nil {
		return b.log.Step("mount", desc, func() error { return err })
	}
	defer target.Close()
	o := specOpts(m)
	rec := o.Flags & unix.MS_REC
	if err := b.log.Step("mount", desc, func() error {
		return unix.Mount(src, fdPath(target), "", unix.MS_BIND|rec, "")
	}); err != nil {
		return err
	}
	// Re-open: the handle we hold is below the new mount.
	t2, err := b.reopen(m.Destination)
	if err != nil {
		return err
	}
	defer t2.Close()
	if rest := o.Flags &^ (unix.MS_BIND | unix.MS_REC); rest != 0 || o.ClearFlags != 0 {
		if err := b.remount(fdPath(t2), rest|rec, desc); err != nil {
			return err
		}
	}
	if err := b.recursiveAttrs(t2, o, desc); err != nil {
		return err
	}
	return b.applyPropagation(m, t2)
}

// remount applies flags to an existing bind mount. In a user namespace the
// kernel refuses to clear a locked flag, so on EPERM it retries keeping the
// flags the source mount already has, as runc does.
func (b *Builder) remount(path string, flags uintptr, desc string) error {
	err := b.log.Step("remount", desc, func() error {
		return unix.Mount("", path, "", unix.MS_BIND|unix.MS_REMOUNT|flags, "")
	})
	if !errors.Is(err, unix.EPERM) {
		return err
	}
	var st unix.Statfs_t
	if unix.Statfs(path, &st) != nil {
		return err
	}
	flags |= uintptr(st.Flags) & lockedFlags
	return b.log.Step("remount", desc+" keeping locked flags", func() error {
		return unix.Mount("", path, "", unix.MS_BIND|unix.MS_REMOUNT|flags, "")
	})
}

// recursiveAttrs applies rro, rnosuid and friends with mount_setattr(2).
func (b *Builder) recursiveAttrs(t *os.File, o spec.MountOptions, desc string) error {
	if o.RecAttrSet == 0 && o.RecAttrClr == 0 {
		return nil
	}
	attr := &unix.MountAttr{Attr_set: o.RecAttrSet, Attr_clr: o.RecAttrClr}
	return b.log.Step("mount_setattr", desc+" (recursive)", func() error {
		return unix.MountSetattr(int(t.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr)
	})
}

// applyPropagation applies shared/slave/private/unbindable options in order.
// t is the mount's handle, or nil to resolve it here.
func (b *Builder) applyPropagation(m *specs.Mount, t *os.File) error {
	props := specOpts(m).Propagation
	if len(props) == 0 {
		return nil
	}
	if t == nil {
		var err error
		if t, err = b.reopen(m.Destination); err != nil {
			return err
		}
		defer t.Close()
	}
	for _, p := range props {
		if err := b.log.Step("mount", m.Destination+" propagation "+PropName(p), func() error {
			return unix.Mount("", fdPath(t), "", p, "")
		}); err != nil {
			return err
		}
	}
	return nil
}

// reopen resolves dest again: a handle taken before a mount points at the
// directory underneath it, not at the new mount.
func (b *Builder) reopen(dest string) (*os.File, error) {
	f, err := b.lookup(dest, 0)
	if err != nil {
		return nil, fmt.Errorf("reopen %s after mount: %w", dest, err)
	}
	return f, nil
}
