package rootfs

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// linux.mountLabel, applied where runc applies it (libcontainer's
// mountToRootfs and maskDir): as SELinux's context= option on every
// filesystem mounted fresh except proc and sysfs (which have their own
// labels), cgroup filesystems and mqueue; mqueue's superblock is the IPC
// namespace's, made before the mount, so its root is labelled afterwards
// with setxattr (only where SELinux is enabled, as go-selinux's
// SetFileLabel). Like runc, hako passes context= whether or not the host
// has SELinux: a kernel without it refuses the option (EINVAL) and the
// create fails, naming the mount.

// MountData returns the data string for mounting m (not a bind): data, and
// the context= option when label is set and m's type takes one.
func MountData(m *specs.Mount, data, label string) string {
	switch m.Type {
	case "proc", "sysfs", "mqueue", "cgroup", "cgroup2":
		return data
	}
	return WithLabel(data, label)
}

// WithLabel appends context="label" to data (go-selinux's
// FormatMountLabel: quoted, since MCS labels hold commas; the kernel takes
// LSM options out of the string quote-aware before the filesystem's own).
func WithLabel(data, label string) string {
	if label == "" {
		return data
	}
	if data == "" {
		return fmt.Sprintf("context=%q", label)
	}
	return fmt.Sprintf("%s,context=%q", data, label)
}

// XattrLabel reports whether m's root gets label as an extended attribute
// after mounting, if the host has SELinux (mqueue with a label). Callers
// ask lsm.SELinuxEnabled only then: without a label nothing is looked up.
func XattrLabel(m *specs.Mount, label string) bool {
	return m.Type == "mqueue" && label != ""
}

// SELinuxXattr is the extended attribute holding a file's SELinux label.
const SELinuxXattr = "security.selinux"

// LabelDesc adds the context= option to a mount's description (traces and
// errors: a kernel without SELinux refuses exactly that option).
func LabelDesc(desc, label string) string {
	return desc + " " + WithLabel("", label)
}
