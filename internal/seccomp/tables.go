package seccomp

import "sort"

//go:generate go run mksyscalls.go -o zsyscalls_x86.go

// sysEntry is one syscall name and its number in each x86 ABI (-1: absent).
// x32 numbers carry the x32 bit (0x40000000), as the kernel sees them in
// seccomp_data.nr.
type sysEntry struct {
	name             string
	x86_64, x86, x32 int32
}

// find returns the table entry for name. The table is a sorted array
// rather than a map so that it costs nothing at program start: hako runs
// once per CLI verb, and most verbs never compile a filter.
func find(name string) (*sysEntry, bool) {
	i := sort.Search(len(syscallTable), func(i int) bool { return syscallTable[i].name >= name })
	if i == len(syscallTable) || syscallTable[i].name != name {
		return nil, false
	}
	return &syscallTable[i], true
}

// nr returns the number of the syscall in an ABI.
func (e *sysEntry) nr(abi abiID) (uint32, bool) {
	n := [...]int32{abiX86_64: e.x86_64, abiX86: e.x86, abiX32: e.x32}[abi]
	return uint32(n), n >= 0
}
