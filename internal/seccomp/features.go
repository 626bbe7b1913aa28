package seccomp

import (
	"errors"
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go/features"
	"golang.org/x/sys/unix"
)

// Features describes this compiler for `hako features`: every action,
// operator, architecture and flag it knows, and the flags this kernel takes.
func Features() *features.Seccomp {
	yes := true
	f := &features.Seccomp{Enabled: &yes}
	for a := range retActions {
		f.Actions = append(f.Actions, string(a))
	}
	for op := range condOps {
		f.Operators = append(f.Operators, string(op))
	}
	for _, a := range abis {
		f.Archs = append(f.Archs, string(a.spec))
	}
	for name, bit := range filterFlags {
		f.KnownFlags = append(f.KnownFlags, string(name))
		probe := bit
		if bit == 0 { // TSYNC, which filterFlags leaves out
			probe = unix.SECCOMP_FILTER_FLAG_TSYNC
		}
		if bit == unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV {
			probe |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER // EINVAL alone
		}
		if flagSupported(probe) {
			f.SupportedFlags = append(f.SupportedFlags, string(name))
		}
	}
	for _, l := range [][]string{f.Actions, f.Operators, f.Archs, f.KnownFlags, f.SupportedFlags} {
		slices.Sort(l)
	}
	return f
}

// flagSupported probes the kernel for a filter flag the way runc does: with
// a NULL program, seccomp(2) checks the flags first and then fails with
// EFAULT on the pointer; an unknown flag fails with EINVAL.
func flagSupported(flag uint) bool {
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flag), 0)
	return errors.Is(errno, unix.EFAULT)
}
