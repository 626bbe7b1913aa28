//go:build amd64

package seccomp

import (
	"math/rand/v2"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// holds is the meaning of a condition, written plainly in Go.
func holds(cd cond, args [6]uint64, wide bool) bool {
	a, v, two := args[cd.arg], cd.value, cd.two
	if !wide {
		a, v, two = uint64(uint32(a)), uint64(uint32(v)), uint64(uint32(two))
	}
	switch cd.op {
	case specs.OpEqualTo:
		return a == v
	case specs.OpNotEqual:
		return a != v
	case specs.OpLessThan:
		return a < v
	case specs.OpLessEqual:
		return a <= v
	case specs.OpGreaterThan:
		return a > v
	case specs.OpGreaterEqual:
		return a >= v
	case specs.OpMaskedEqual:
		return a&v == two
	}
	panic("op " + cd.op)
}

// eval is what the filter should return, from the compiler's tables
// without any BPF: the model the generated code is checked against.
func (c *compiler) eval(d data) uint32 {
	var abi abiID
	switch {
	case d.arch == unix.AUDIT_ARCH_I386:
		abi = abiX86
	case d.arch == unix.AUDIT_ARCH_X86_64 && d.nr >= x32Bit:
		abi = abiX32
	case d.arch == unix.AUDIT_ARCH_X86_64:
		abi = abiX86_64
	default:
		return retBadArch
	}
	if !c.on[abi] {
		return retBadArch
	}
	idx := uint64(d.nr)
	if abi == abiX32 {
		idx -= x32Bit
	}
	if idx < uint64(len(c.table[abi])) && c.table[abi][idx].set {
		e := c.table[abi][idx]
		for _, r := range e.rules {
			if allHold(r.conds, d.args, abis[abi].wide) {
				return r.ret
			}
		}
		return c.defRet
	}
	if c.enosys && c.maxNr[abi] >= 0 && int64(d.nr) > c.maxNr[abi] {
		return retENOSYS
	}
	return c.defRet
}

func allHold(conds []cond, args [6]uint64, wide bool) bool {
	for _, cd := range conds {
		if !holds(cd, args, wide) {
			return false
		}
	}
	return true
}

var (
	interesting = []uint64{0, 1, 2, 0xff, 0xffffffff, 1 << 32, 1<<32 + 1, 0xdeadbeef00000001, ^uint64(0)}
	allOps      = []specs.LinuxSeccompOperator{specs.OpEqualTo, specs.OpNotEqual, specs.OpLessThan,
		specs.OpLessEqual, specs.OpGreaterThan, specs.OpGreaterEqual, specs.OpMaskedEqual}
	someActions = []specs.LinuxSeccompAction{specs.ActAllow, specs.ActErrno, specs.ActKillProcess,
		specs.ActTrap, specs.ActLog, specs.ActTrace, specs.ActKill}
	someArchs = []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
)

// randomProfile makes a profile of n syscall entries with random names,
// actions and conditions; large n makes subtrees longer than a conditional
// jump reaches.
func randomProfile(r *rand.Rand, n int) *specs.LinuxSeccomp {
	s := &specs.LinuxSeccomp{DefaultAction: someActions[r.IntN(len(someActions))]}
	for _, a := range someArchs {
		if r.IntN(2) == 0 {
			s.Architectures = append(s.Architectures, a)
		}
	}
	for range n {
		call := specs.LinuxSyscall{Action: someActions[r.IntN(len(someActions))]}
		if call.Action == specs.ActErrno && r.IntN(2) == 0 {
			e := uint(r.IntN(200))
			call.ErrnoRet = &e
		}
		for range 1 + r.IntN(3) {
			call.Names = append(call.Names, syscallTable[r.IntN(len(syscallTable))].name)
		}
		for range r.IntN(4) {
			call.Args = append(call.Args, specs.LinuxSeccompArg{
				Index: uint(r.IntN(6)), Op: allOps[r.IntN(len(allOps))],
				Value: interesting[r.IntN(len(interesting))], ValueTwo: interesting[r.IntN(len(interesting))],
			})
		}
		s.Syscalls = append(s.Syscalls, call)
	}
	return s
}

// randomData is a syscall near one the profile names, or any number.
func randomData(r *rand.Rand) data {
	var d data
	arches := []uint32{unix.AUDIT_ARCH_X86_64, unix.AUDIT_ARCH_I386, unix.AUDIT_ARCH_AARCH64}
	d.arch = arches[r.IntN(len(arches))]
	e := syscallTable[r.IntN(len(syscallTable))]
	nrs := []int32{e.x86_64, e.x86, e.x32, int32(r.Uint32()), -1}
	d.nr = uint32(nrs[r.IntN(len(nrs))]) + uint32(r.IntN(3)) - 1
	for i := range d.args {
		d.args[i] = interesting[r.IntN(len(interesting))] + uint64(r.IntN(3)) - 1
	}
	return d
}

// TestModel checks the generated BPF against eval for random profiles,
// small and large, and random syscalls.
func TestModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	longest := 0
	for i := range 300 {
		s := randomProfile(r, []int{1, 5, 40, 80}[i%4])
		c, err := parse(s)
		if err != nil {
			t.Fatalf("profile %d: %v", i, err)
		}
		prog, err := c.generate()
		if err != nil {
			t.Fatalf("profile %d: %v", i, err)
		}
		longest = max(longest, len(prog))
		for range 2000 {
			d := randomData(r)
			got, _, err := run(prog, d)
			if want := c.eval(d); err != nil || got != want {
				t.Fatalf("profile %d, %+v: got %#x (%v), want %#x", i, d, got, err, want)
			}
		}
	}
	t.Logf("longest program: %d insns", longest)
	if longest < 1000 {
		t.Errorf("longest program %d insns: the test no longer exercises long jumps", longest)
	}
}
