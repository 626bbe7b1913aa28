package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// retActions maps a spec action to its SECCOMP_RET_* value (seccomp(2)).
// SCMP_ACT_KILL is KILL_THREAD, as in libseccomp.
var retActions = map[specs.LinuxSeccompAction]uint32{
	specs.ActKill:        unix.SECCOMP_RET_KILL_THREAD,
	specs.ActKillThread:  unix.SECCOMP_RET_KILL_THREAD,
	specs.ActKillProcess: unix.SECCOMP_RET_KILL_PROCESS,
	specs.ActTrap:        unix.SECCOMP_RET_TRAP,
	specs.ActErrno:       unix.SECCOMP_RET_ERRNO,
	specs.ActTrace:       unix.SECCOMP_RET_TRACE,
	specs.ActAllow:       unix.SECCOMP_RET_ALLOW,
	specs.ActLog:         unix.SECCOMP_RET_LOG,
	specs.ActNotify:      unix.SECCOMP_RET_USER_NOTIF,
}

// retBadArch is libseccomp's default SCMP_FLTATR_ACT_BADARCH (SCMP_ACT_KILL,
// seccomp_attr_set(3)): a syscall from an ABI the filter does not cover kills
// the thread. runc never changes it.
const retBadArch = unix.SECCOMP_RET_KILL_THREAD

// retENOSYS answers syscalls newer than the profile (see enosysFloor).
const retENOSYS = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)

// retValue turns an action and its errnoRet into the filter's return value.
// errnoRet defaults to EPERM for ERRNO and TRACE, as the runtime-spec says
// and runc does; the kernel keeps 16 bits of it (SECCOMP_RET_DATA).
func retValue(field string, act specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	ret, ok := retActions[act]
	if !ok {
		return 0, fieldErr(field, "unknown action %q", act)
	}
	if act != specs.ActErrno && act != specs.ActTrace {
		if errnoRet != nil {
			return 0, fieldErr(field, "errnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not %s", act)
		}
		return ret, nil
	}
	data := uint(unix.EPERM)
	if errnoRet != nil {
		data = *errnoRet
	}
	if data > unix.SECCOMP_RET_DATA {
		return 0, fieldErr(field, "errnoRet %d does not fit in 16 bits", data)
	}
	return ret | uint32(data), nil
}

// filterFlags maps the spec's flags to SECCOMP_FILTER_FLAG_* bits.
// TSYNC maps to nothing, as in runc: the filter goes on the thread that
// goes on to execve (hako-init has no other), and execve leaves it, filter
// and all, as the only one anyway; the container sees no difference.
var filterFlags = map[specs.LinuxSeccompFlag]uint{
	"SECCOMP_FILTER_FLAG_TSYNC":            0,
	specs.LinuxSeccompFlagLog:              unix.SECCOMP_FILTER_FLAG_LOG,
	specs.LinuxSeccompFlagSpecAllow:        unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
	specs.LinuxSeccompFlagWaitKillableRecv: unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
}

// flagBits checks the profile's flags and adds NEW_LISTENER when a rule
// notifies. WAIT_KILLABLE_RECV without a listener is EINVAL (seccomp(2)); it
// means nothing there, so it is dropped with a warning.
func flagBits(flags []specs.LinuxSeccompFlag, notify bool, warn func(string, ...any)) (uint, error) {
	var bits uint
	for i, f := range flags {
		b, ok := filterFlags[f]
		if !ok {
			return 0, fieldErr(fmt.Sprintf("flags[%d]", i), "unknown flag %q", f)
		}
		bits |= b
	}
	if notify {
		return bits | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, nil
	}
	if bits&unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0 {
		warn("flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: no rule is SCMP_ACT_NOTIFY")
	}
	return bits &^ unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, nil
}
