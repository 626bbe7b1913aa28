//go:build amd64

package seccomp

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// install installs p on the calling thread as hako-init's OP_SECCOMP does
// (seccomp(2) SECCOMP_SET_MODE_FILTER with p.Flags), so the kernel tests
// run the compiled filter for real. It returns the listener fd when p
// notifies, else -1.
//
// Preconditions: the goroutine is locked to its OS thread, which has
// no_new_privs set or CAP_SYS_ADMIN.
func install(p *Program) (int, error) {
	if len(p.Filter) == 0 || len(p.Filter) > maxInsns {
		return -1, fmt.Errorf("seccomp: program of %d instructions", len(p.Filter))
	}
	prog := unix.SockFprog{Len: uint16(len(p.Filter)), Filter: &p.Filter[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(p.Flags), uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(p.Filter)
	if errno != 0 {
		return -1, fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, flags %#x): %w", p.Flags, errno)
	}
	if p.Flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		return int(r), nil
	}
	return -1, nil
}
