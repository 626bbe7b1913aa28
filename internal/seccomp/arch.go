package seccomp

import (
	"fmt"
	"runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// abiID names one syscall ABI the compiler has a table for.
type abiID int

const (
	abiX86_64 abiID = iota
	abiX86
	abiX32
	numABIs
)

// x32Bit marks an x32 syscall: x32 tasks report AUDIT_ARCH_X86_64 in
// seccomp_data.arch and are told apart only by this bit of the number
// (arch/x86/include/uapi/asm/unistd.h).
const x32Bit = 0x40000000

// abiInfo is what code generation needs to know about an ABI.
type abiInfo struct {
	name  string // as in error messages, like libseccomp's arch names
	spec  specs.Arch
	audit uint32 // seccomp_data.arch
	// wide is true where syscall arguments are 64 bits. libseccomp compares
	// only the low 32 bits on 32-bit ABIs (ARCH_SIZE_32, x32 included), and
	// so do we: the kernel zero-extends their registers.
	wide bool
}

var abis = [numABIs]abiInfo{
	abiX86_64: {"x86_64", specs.ArchX86_64, unix.AUDIT_ARCH_X86_64, true},
	abiX86:    {"x86", specs.ArchX86, unix.AUDIT_ARCH_I386, false},
	abiX32:    {"x32", specs.ArchX32, unix.AUDIT_ARCH_X86_64, false},
}

// foreignArchs are runtime-spec architectures this compiler has no tables
// for. A process on an x86 kernel can never present them in
// seccomp_data.arch, so skipping them (with a warning) changes nothing.
var foreignArchs = map[specs.Arch]bool{
	specs.ArchARM: true, specs.ArchAARCH64: true,
	specs.ArchMIPS: true, specs.ArchMIPS64: true, specs.ArchMIPS64N32: true,
	specs.ArchMIPSEL: true, specs.ArchMIPSEL64: true, specs.ArchMIPSEL64N32: true,
	specs.ArchPPC: true, specs.ArchPPC64: true, specs.ArchPPC64LE: true,
	specs.ArchS390: true, specs.ArchS390X: true,
	specs.ArchPARISC: true, specs.ArchPARISC64: true,
	specs.ArchRISCV64: true, specs.ArchLOONGARCH64: true,
	specs.ArchM68K: true, specs.ArchSH: true, specs.ArchSHEB: true,
}

// nativeABI is the ABI of this binary. libseccomp's seccomp_init(3) always
// puts the native architecture in a filter, whatever the profile lists, and
// runc keeps it; so do we.
func nativeABI() (abiID, error) {
	switch runtime.GOARCH {
	case "amd64":
		return abiX86_64, nil
	case "386":
		return abiX86, nil
	}
	return 0, fmt.Errorf("seccomp: no syscall tables for %s", runtime.GOARCH)
}

// selectABIs returns which ABIs the filter covers: the native one plus the
// profile's architectures.
func selectABIs(archs []specs.Arch, warn func(string, ...any)) ([numABIs]bool, error) {
	var on [numABIs]bool
	native, err := nativeABI()
	if err != nil {
		return on, err
	}
	on[native] = true
	for i, a := range archs {
		id, ok := abiBySpec(a)
		switch {
		case ok:
			on[id] = true
		case foreignArchs[a]:
			warn("architectures[%d]: %s ignored: never seen on an x86 kernel", i, a)
		default:
			return on, fieldErr(fmt.Sprintf("architectures[%d]", i), "unknown architecture %q", a)
		}
	}
	return on, nil
}

func abiBySpec(a specs.Arch) (abiID, bool) {
	for id := range abis {
		if abis[id].spec == a {
			return abiID(id), true
		}
	}
	return 0, false
}
