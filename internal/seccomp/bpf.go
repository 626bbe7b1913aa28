package seccomp

import (
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Offsets into struct seccomp_data (linux/seccomp.h): int nr; u32 arch;
// u64 instruction_pointer; u64 args[6]. x86 is little-endian, so an
// argument's low half comes first.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// maxInsns is BPF_MAXINSNS: the kernel refuses longer programs.
const maxInsns = 4096

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: unix.BPF_JMP | code | unix.BPF_K, Jt: jt, Jf: jf, K: k}
}

func load(off uint32) unix.SockFilter { return stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, off) }
func ret(k uint32) unix.SockFilter    { return stmt(unix.BPF_RET|unix.BPF_K, k) }
func ja(skip int) unix.SockFilter     { return stmt(unix.BPF_JMP|unix.BPF_JA, uint32(skip)) }

// generate lays the program out as libseccomp does: dispatch on
// seccomp_data.arch, then per ABI a binary search over syscall numbers
// (libseccomp's SCMP_FLTATR_CTL_OPTIMIZE=2, which runc turns on for long
// profiles). The search costs log2(n) jumps per syscall where a linear list
// costs n/2, and keeps Docker's profile at a sixth of the size limit.
// An ABI the filter does not cover gets retBadArch.
//
// Classic BPF only jumps forward, conditional jumps at most 255 insns; every
// block below is laid out before the code that jumps over it, so a long jump
// turns into "jump over one ja".
func (c *compiler) generate() ([]unix.SockFilter, error) {
	type section struct {
		audit uint32
		code  []unix.SockFilter
	}
	var secs []section
	if c.on[abiX86_64] || c.on[abiX32] {
		secs = append(secs, section{unix.AUDIT_ARCH_X86_64, c.x86_64Section()})
	}
	if c.on[abiX86] {
		secs = append(secs, section{unix.AUDIT_ARCH_I386, c.abiCode(abiX86)})
	}
	// Dispatch: 2 insns per section, then the bad-arch return.
	prog := []unix.SockFilter{load(offArch)}
	after := 2*len(secs) + 1 // insns from the first jeq to the first section
	for _, s := range secs {
		after -= 2
		prog = append(prog, jump(unix.BPF_JEQ, s.audit, 0, 1), ja(after))
		after += len(s.code)
	}
	prog = append(prog, ret(retBadArch))
	for _, s := range secs {
		prog = append(prog, s.code...)
	}
	if len(prog) > maxInsns {
		return nil, fmt.Errorf("seccomp: profile compiles to %d BPF instructions, over the kernel's limit of %d", len(prog), maxInsns)
	}
	return prog, nil
}

// x86_64Section serves AUDIT_ARCH_X86_64, shared by x86_64 and x32: numbers
// at or above the x32 bit are x32 (libseccomp tests with jge, so negative
// numbers count as x32 too).
func (c *compiler) x86_64Section() []unix.SockFilter {
	body64 := c.abiCode(abiX86_64)
	bodyX32 := c.abiCode(abiX32)
	code := []unix.SockFilter{load(offNr), jump(unix.BPF_JGE, x32Bit, 0, 1), ja(len(body64))}
	return append(append(code, body64...), bodyX32...)
}

// abiCode is the binary search for one ABI, or the bad-arch return when the
// filter does not cover it. It starts with nr loaded, except for x86,
// which loads it itself.
func (c *compiler) abiCode(abi abiID) []unix.SockFilter {
	if !c.on[abi] {
		return []unix.SockFilter{ret(retBadArch)}
	}
	code := c.tree(nil, c.spans(abi), abis[abi].wide)
	if abi == abiX86 {
		code = append(code, load(offNr))
	}
	slices.Reverse(code)
	return code
}

// span is a run of syscall numbers, from lo up to the next span, that share
// one outcome; r == nil is the default action.
type span struct {
	lo uint32
	r  *syscallRules
}

// spans cuts the 32-bit number space of an ABI into runs with one outcome,
// merging neighbours that return the same value without conditions.
func (c *compiler) spans(abi abiID) []span {
	var base uint32
	if abi == abiX32 {
		base = x32Bit
	}
	pts := make([]span, 1, 2*len(c.table[abi])+2)
	for i := range c.table[abi] {
		if e := &c.table[abi][i]; e.set {
			nr := base | uint32(i)
			pts = append(pts, span{nr, e}, span{nr + 1, nil})
		}
	}
	if c.enosys && c.maxNr[abi] >= 0 {
		enosys := &syscallRules{uncond: true, rules: []rule{{ret: retENOSYS}}}
		pts = append(pts, span{uint32(c.maxNr[abi]) + 1, enosys})
	}
	out := pts[:0] // compacts in place: out never passes p
	for _, p := range pts {
		n := len(out)
		switch {
		case n > 0 && out[n-1].lo == p.lo: // a later point at the same number wins
			out[n-1].r = p.r
			if n > 1 && c.sameLeaf(out[n-2].r, p.r) {
				out = out[:n-1]
			}
		case n > 0 && c.sameLeaf(out[n-1].r, p.r):
		default:
			out = append(out, p)
		}
	}
	return out
}

// sameLeaf tells whether two outcomes are one return without conditions.
func (c *compiler) sameLeaf(a, b *syscallRules) bool {
	ra, okA := c.plainRet(a)
	rb, okB := c.plainRet(b)
	return okA && okB && ra == rb
}

func (c *compiler) plainRet(r *syscallRules) (uint32, bool) {
	switch {
	case r == nil:
		return c.defRet, true
	case r.uncond:
		return r.rules[0].ret, true
	}
	return 0, false
}

// tree appends the binary search over sp to code, back to front: code holds
// the program reversed, so when a branch is emitted the code it jumps over
// is already there and its length known. The accumulator holds nr
// throughout.
func (c *compiler) tree(code []unix.SockFilter, sp []span, wide bool) []unix.SockFilter {
	if len(sp) == 1 {
		leaf := c.leaf(sp[0].r, wide)
		for i := len(leaf) - 1; i >= 0; i-- {
			code = append(code, leaf[i])
		}
		return code
	}
	mid := len(sp) / 2
	code = c.tree(code, sp[mid:], wide)
	n := len(code)
	code = c.tree(code, sp[:mid], wide)
	left := len(code) - n
	if left > 255 {
		return append(code, ja(left), jump(unix.BPF_JGE, sp[mid].lo, 0, 1))
	}
	return append(code, jump(unix.BPF_JGE, sp[mid].lo, uint8(left), 0))
}

// leaf is the code for one syscall: each rule in turn, then the default.
func (c *compiler) leaf(r *syscallRules, wide bool) []unix.SockFilter {
	if rv, ok := c.plainRet(r); ok {
		return []unix.SockFilter{ret(rv)}
	}
	var code []unix.SockFilter
	for _, rl := range r.rules {
		code = append(code, ruleCode(rl, wide)...)
	}
	return append(code, ret(c.defRet))
}

// ruleCode is a rule's conditions followed by its return; a failed
// condition jumps past the return, to the next rule. Built back to front,
// so each condition knows how far its failure jumps. A rule has at most 6
// conditions of at most 7 insns, so no jump here passes 255.
func ruleCode(r rule, wide bool) []unix.SockFilter {
	code := []unix.SockFilter{ret(r.ret)}
	for i := len(r.conds) - 1; i >= 0; i-- {
		code = append(condCode(r.conds[i], wide, len(code)), code...)
	}
	return code
}

// Jump targets inside a condition block.
const (
	tNext = iota // the next insn
	tPass        // the end of the block: the next condition
	tFail        // failSkip insns past the end: the next rule
)

type insn struct {
	f      unix.SockFilter
	jt, jf int
}

// condOps gives each operator the comparison it is built on, and whether
// the outcome is negated: NE is !EQ, LT is !GE, LE is !GT.
var condOps = map[specs.LinuxSeccompOperator]struct {
	jmp uint16
	neg bool
}{
	specs.OpEqualTo:      {unix.BPF_JEQ, false},
	specs.OpNotEqual:     {unix.BPF_JEQ, true},
	specs.OpGreaterThan:  {unix.BPF_JGT, false},
	specs.OpLessEqual:    {unix.BPF_JGT, true},
	specs.OpGreaterEqual: {unix.BPF_JGE, false},
	specs.OpLessThan:     {unix.BPF_JGE, true},
	specs.OpMaskedEqual:  {unix.BPF_JEQ, false},
}

// condCode compares one argument. On 64-bit ABIs the high halves decide
// unless equal, then the low halves do, as in libseccomp's gen_bpf.c:
//
//	ld hi; [and mask.hi]; [jgt v.hi -> pass]; jeq v.hi ? next : fail
//	ld lo; [and mask.lo]; j<op> v.lo ? pass : fail
//
// with pass and fail swapped for a negated operator. The jgt line is for
// ordering operators: a greater high half settles them.
func condCode(cd cond, wide bool, failSkip int) []unix.SockFilter {
	op := condOps[cd.op]
	pass, fail := tPass, tFail
	if op.neg {
		pass, fail = fail, pass
	}
	mask, val := ^uint64(0), cd.value
	if cd.op == specs.OpMaskedEqual {
		mask, val = cd.value, cd.two
	}
	lo := offArgs + 8*uint32(cd.arg)
	var b []insn
	if wide {
		b = append(b, insn{f: load(lo + 4)})
		b = appendMask(b, uint32(mask>>32))
		if op.jmp != unix.BPF_JEQ {
			b = append(b, insn{jump(unix.BPF_JGT, uint32(val>>32), 0, 0), pass, tNext})
		}
		b = append(b, insn{jump(unix.BPF_JEQ, uint32(val>>32), 0, 0), tNext, fail})
	}
	b = append(b, insn{f: load(lo)})
	b = appendMask(b, uint32(mask))
	b = append(b, insn{jump(op.jmp, uint32(val), 0, 0), pass, fail})
	return resolve(b, failSkip)
}

// appendMask ANDs the accumulator with m unless m keeps every bit.
func appendMask(b []insn, m uint32) []insn {
	if m == ^uint32(0) {
		return b
	}
	return append(b, insn{f: stmt(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, m)})
}

// resolve turns symbolic targets into jump offsets.
func resolve(b []insn, failSkip int) []unix.SockFilter {
	off := func(i, t int) uint8 {
		switch t {
		case tPass:
			return uint8(len(b) - i - 1)
		case tFail:
			return uint8(len(b) - i - 1 + failSkip)
		}
		return 0
	}
	out := make([]unix.SockFilter, len(b))
	for i, in := range b {
		out[i] = in.f
		if in.f.Code&0x07 == unix.BPF_JMP {
			out[i].Jt, out[i].Jf = off(i, in.jt), off(i, in.jf)
		}
	}
	return out
}
