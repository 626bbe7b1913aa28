package seccomp

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Load installs the program on the calling thread with seccomp(2)
// SECCOMP_SET_MODE_FILTER and its Flags. It returns the listener fd when the
// program notifies (the kernel opens it O_CLOEXEC), else -1.
//
// Preconditions: the goroutine is locked to its OS thread
// (runtime.LockOSThread), and the thread has no_new_privs set
// (prctl(PR_SET_NO_NEW_PRIVS)) or CAP_SYS_ADMIN in its user namespace;
// seccomp(2) fails with EACCES otherwise. Setting no_new_privs is the
// caller's business: the spec's process.noNewPrivileges decides it.
//
// The filter binds this thread only (see filterFlags on TSYNC). That is
// enough for a thread that goes on to execve(2), which leaves it the only
// thread, filter and all. Between Load and execve the thread runs
// under the filter, so it must make no syscall the profile denies; with
// NOTIFY rules, none that waits on the agent before the caller has handed
// over the listener fd.
func (p *Program) Load() (notifyFd int, err error) {
	if len(p.Filter) == 0 || len(p.Filter) > maxInsns {
		return -1, fmt.Errorf("seccomp: program of %d instructions", len(p.Filter))
	}
	prog := unix.SockFprog{Len: uint16(len(p.Filter)), Filter: &p.Filter[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(p.Flags), uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(p.Filter)
	if errno != 0 {
		return -1, fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, flags %#x): %w", p.Flags, loadErr(errno))
	}
	if p.Flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		return int(r), nil
	}
	return -1, nil
}

// loadErr adds the usual reason to the errno seccomp(2) returns.
func loadErr(errno unix.Errno) error {
	switch errno {
	case unix.EACCES:
		return fmt.Errorf("%w (needs no_new_privs or CAP_SYS_ADMIN)", errno)
	case unix.EINVAL:
		return fmt.Errorf("%w (a flag or action this kernel does not know?)", errno)
	}
	return errno
}

// flagSupported probes the kernel for a filter flag the way runc does: with
// a NULL program, seccomp(2) checks the flags first and then fails with
// EFAULT on the pointer; an unknown flag fails with EINVAL.
func flagSupported(flag uint) bool {
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flag), 0)
	return errors.Is(errno, unix.EFAULT)
}
