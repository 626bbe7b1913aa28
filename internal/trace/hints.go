package trace

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// hintFor returns the likely cause of a failed step, where hako knows one.
// Keep each hint to what a user can act on.
func hintFor(step, operands string, err error) string {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return ""
	}
	switch {
	case step == "mount" && errno == unix.EINVAL && strings.Contains(operands, "devpts"):
		return "devpts refuses uid=/gid= options naming an ID that is not mapped in the container's user namespace"
	case step == "mount" && errno == unix.EPERM && strings.Contains(operands, "sysfs"):
		return "sysfs can only be mounted in a user namespace that also owns a new network namespace; bind-mount /sys instead"
	case step == "mount" && errno == unix.EPERM && strings.HasPrefix(operands, "proc "):
		return "proc can only be mounted in a user namespace that also owns a new PID namespace (linux.namespaces: pid) and when nothing is mounted over the host's /proc files"
	case step == "mount" && errno == unix.EPERM:
		return "the container's user namespace does not own what this mount needs (a locked mount flag, or a filesystem type that needs host privilege: mount it on the host and bind-mount it in)"
	case step == "mount" && errno == unix.EACCES:
		return "the container's root is an unprivileged host user (in rootless mode, the user running hako) and may not reach the mount source: every directory on its path needs search permission for that user"
	case step == "mount" && errno == unix.ENOENT:
		return "the mount source does not exist"
	case step == "pivot_root" && errno == unix.EINVAL:
		return "pivot_root needs the new root to be a mount point not on a shared parent mount; try --no-pivot when the rootfs is on a ramfs/initramfs"
	case (step == "exec" || step == "lookup") && errno == unix.ENOENT:
		return "the program (or its ELF interpreter) does not exist in the container's rootfs"
	case step == "exec" && errno == unix.EACCES:
		return "the program is not executable, or its filesystem is mounted noexec, or the AppArmor profile or SELinux label it was to run under denies it"
	case step == "apparmor" && strings.HasPrefix(operands, "exec "):
		return apparmorHint(strings.TrimPrefix(operands, "exec "), errno)
	case step == "selinux" && strings.HasPrefix(operands, "exec ") && errno == unix.EINVAL:
		return "the loaded SELinux policy does not know this label (or it is malformed)"
	case step == "selinux" && strings.HasPrefix(operands, "exec ") && (errno == unix.EACCES || errno == unix.EPERM):
		return "the SELinux policy does not let hako's domain set this exec label (process setexec)"
	case step == "mount" && errno == unix.EINVAL && strings.Contains(operands, "context="):
		return "the kernel refused the context= option of linux.mountLabel: it needs SELinux enabled on the host and a label the loaded policy knows"
	case step == "prlimit" && errno == unix.EPERM:
		return "raising a hard limit above hako's own needs CAP_SYS_RESOURCE, which this host withholds; ask for at most the current hard limit (ulimit -H)"
	case step == "sethostname" && errno == unix.EPERM:
		return "setting a hostname needs a new UTS namespace (linux.namespaces: uts)"
	case step == "clone" && strings.Contains(operands, "CLONE_NEWUSER") && (errno == unix.ENOSPC || errno == unix.EUSERS):
		return "the kernel allows this user no new user namespace: sysctl user.max_user_namespaces is 0 (user namespaces disabled) or its limit is reached; ask root to raise it (sysctl -w user.max_user_namespaces=15000)"
	case step == "clone" && strings.Contains(operands, "CLONE_NEWUSER") && errno == unix.EPERM:
		return "unprivileged user namespaces are disabled (sysctl kernel.unprivileged_userns_clone=0 on Debian-patched kernels), or a seccomp filter or LSM forbids them (hako itself in a container, or in a chroot); ask root to allow them"
	case step == "clone" && errno == unix.EPERM:
		return "creating namespaces needs CAP_SYS_ADMIN, which an unprivileged user has only in a user namespace of its own: run as root, or add a user namespace to the config (hako spec --rootless writes one)"
	case step == "address" && strings.Contains(operands, " nodad") && (errno == unix.EACCES || errno == unix.EAFNOSUPPORT):
		return "IPv6 is off on this link or host (sysctl net.ipv6.conf.<link>.disable_ipv6=1, or net.ipv6.conf.default.disable_ipv6=1 for new links, or the kernel booted with ipv6.disable=1)"
	case strings.HasPrefix(step, "write uid_map") || strings.HasPrefix(step, "write gid_map"):
		if errno == unix.EPERM {
			return "each mapped host ID must be owned by the caller unless hako runs as root; use newuidmap/newgidmap for ranges"
		}
	}
	return ""
}

// apparmorHint explains a failed "exec PROFILE" write: the kernel looks
// the profile up at the write (aa_change_profile), so a profile that is not
// loaded fails here with ENOENT, not later at execve.
func apparmorHint(profile string, errno unix.Errno) string {
	switch errno {
	case unix.ENOENT:
		return fmt.Sprintf("apparmor profile %q is not loaded (see aa-status / apparmor_parser)", profile)
	case unix.EACCES, unix.EPERM:
		return fmt.Sprintf("the AppArmor profile hako itself runs under does not allow changing to %q (change_profile)", profile)
	case unix.EINVAL:
		return "AppArmor is not enabled in this kernel"
	}
	return ""
}
