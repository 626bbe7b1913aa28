package initplan

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// What a mount is and how it is described (IsBind, MountDesc: also the
// runtime's, container/idmap.go), propagation names, SELinux mount labels,
// and the default nodes and links of a fresh /dev.

// propagationFlags maps rootfsPropagation and mount option names to MS_*
// flags.
var propagationFlags = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// propagationFlag maps a rootfsPropagation or mount option name to MS_*
// flags.
func propagationFlag(name string) (uintptr, bool) { f, ok := propagationFlags[name]; return f, ok }

// propName names MS_* propagation flags.
func propName(f uintptr) string {
	for k, v := range propagationFlags {
		if v == f {
			return k
		}
	}
	return strconv.FormatUint(uint64(f), 16)
}

// IsBind reports whether m is a bind mount (type bind or option (r)bind).
func IsBind(m *specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

// MountDesc renders "type on dest (opts)" for traces and errors.
func MountDesc(m *specs.Mount) string {
	s := m.Type
	if IsBind(m) {
		s = "bind " + m.Source
	}
	s += " on " + m.Destination
	if len(m.Options) > 0 {
		s += " (" + strings.Join(m.Options, ",") + ")"
	}
	return s
}

// linux.mountLabel, applied where runc applies it (libcontainer's
// mountToRootfs and maskDir): as SELinux's context= option on every
// filesystem mounted fresh except proc and sysfs (which have their own
// labels), cgroup filesystems and mqueue; mqueue's superblock is the IPC
// namespace's, made before the mount, so its root is labelled afterwards
// with setxattr (only where SELinux is enabled, as go-selinux's
// SetFileLabel). Like runc, hako passes context= whether or not the host
// has SELinux: a kernel without it refuses the option (EINVAL) and the
// create fails, naming the mount.

// mountData returns the data string for mounting m (not a bind): data, and
// the context= option when label is set and m's type takes one.
func mountData(m *specs.Mount, data, label string) string {
	switch m.Type {
	case "proc", "sysfs", "mqueue", "cgroup", "cgroup2":
		return data
	}
	return withLabel(data, label)
}

// withLabel appends context="label" to data (go-selinux's
// FormatMountLabel: quoted, since MCS labels hold commas; the kernel takes
// LSM options out of the string quote-aware before the filesystem's own).
func withLabel(data, label string) string {
	if label == "" {
		return data
	}
	if data == "" {
		return fmt.Sprintf("context=%q", label)
	}
	return fmt.Sprintf("%s,context=%q", data, label)
}

// xattrLabel reports whether m's root gets label as an extended attribute
// after mounting, if the host has SELinux (mqueue with a label). Callers
// ask lsm.SELinuxEnabled only then: without a label nothing is looked up.
func xattrLabel(m *specs.Mount, label string) bool {
	return m.Type == "mqueue" && label != ""
}

// selinuxXattr is the extended attribute holding a file's SELinux label.
const selinuxXattr = "security.selinux"

// labelDesc adds the context= option to a mount's description (traces and
// errors: a kernel without SELinux refuses exactly that option).
func labelDesc(desc, label string) string {
	return desc + " " + withLabel("", label)
}

// charDevice is a character device node at path, mode 0666, owned by
// root of the container.
func charDevice(path string, major, minor int64) specs.LinuxDevice {
	mode := os.FileMode(0o666)
	var zero uint32
	return specs.LinuxDevice{Path: path, Type: "c", Major: major, Minor: minor, FileMode: &mode, UID: &zero, GID: &zero}
}

// defaultDevices are the nodes every container gets (runtime-spec "Default
// Devices"), unless the config lists the same path itself.
var defaultDevices = []specs.LinuxDevice{
	charDevice("/dev/null", 1, 3), charDevice("/dev/zero", 1, 5), charDevice("/dev/full", 1, 7),
	charDevice("/dev/random", 1, 8), charDevice("/dev/urandom", 1, 9), charDevice("/dev/tty", 5, 0),
}

// devNodes are the default nodes a fresh /dev gets, less those the config
// lists itself (it makes those).
func devNodes(listedInConfig []specs.LinuxDevice) []specs.LinuxDevice {
	var devs []specs.LinuxDevice
	for _, d := range defaultDevices {
		if !listed(listedInConfig, d.Path) {
			devs = append(devs, d)
		}
	}
	return devs
}

// devLinks are the standard links of a fresh /dev, as [target, link].
func devLinks() [][2]string {
	links := [][2]string{
		{"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"},
		{"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
		{"pts/ptmx", "/dev/ptmx"},
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "/dev/core"})
	}
	return links
}

func listed(devs []specs.LinuxDevice, path string) bool {
	for _, d := range devs {
		if filepath.Clean(d.Path) == path {
			return true
		}
	}
	return false
}

// devType maps a device type letter (c, u, b, p) to its S_IF* file type.
func devType(t string) (uint32, error) {
	switch t {
	case "c", "u":
		return unix.S_IFCHR, nil
	case "b":
		return unix.S_IFBLK, nil
	case "p":
		return unix.S_IFIFO, nil
	}
	return 0, fmt.Errorf("unknown device type %q", t)
}
