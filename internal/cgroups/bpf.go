package cgroups

import (
	"encoding/binary"
	"fmt"
	"math"

	"golang.org/x/sys/unix"
)

// A minimal eBPF assembler: the few instructions deviceFilter emits
// (Documentation/bpf/standardization/instruction-set.rst in the kernel),
// with jumps to named labels that assemble resolves to offsets. It replaces
// github.com/cilium/ebpf, which linked debug/elf, go/format, crypto and
// more into every hako process: 1.2 MB of binary and about 40 page faults
// per start.

type reg uint8

const (
	r0 reg = iota
	r1
	r2
	r3
	r4
	r5
)

// insn is one instruction before assembly.
type insn struct {
	code     uint8 // class | operation | source (BPF_K: imm, BPF_X: src)
	dst, src reg
	off      int16
	imm      int32
	label    string // names this instruction, for jumps to it
	target   string // a jump's destination label, resolved into off
}

// ldxW is dst = *(u32 *)(src + off).
func ldxW(dst, src reg, off int16) insn {
	return insn{code: unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W, dst: dst, src: src, off: off}
}

// alu32 is dst op= imm on the low 32 bits of dst; the kernel zeroes the
// high 32.
func alu32(op uint8, dst reg, imm int32) insn {
	return insn{code: unix.BPF_ALU | unix.BPF_K | op, dst: dst, imm: imm}
}

// alu32Reg is dst op= src on the low 32 bits.
func alu32Reg(op uint8, dst, src reg) insn {
	return insn{code: unix.BPF_ALU | unix.BPF_X | op, dst: dst, src: src}
}

// jump is "if dst op imm goto to"; class BPF_JMP compares 64 bits (imm
// sign-extended), BPF_JMP32 the low 32.
func jump(class, op uint8, dst reg, imm int32, to string) insn {
	return insn{code: class | unix.BPF_K | op, dst: dst, imm: imm, target: to}
}

// jumpReg is "if dst op src goto to", on 64 bits.
func jumpReg(op uint8, dst, src reg, to string) insn {
	return insn{code: unix.BPF_JMP | unix.BPF_X | op, dst: dst, src: src, target: to}
}

// exit returns r0.
func exit() insn { return insn{code: unix.BPF_JMP | unix.BPF_EXIT} }

// named returns in with a label, for jumps to it.
func (in insn) named(label string) insn {
	in.label = label
	return in
}

// bpfInsn is struct bpf_insn (include/uapi/linux/bpf.h), as the kernel
// reads a program.
type bpfInsn struct {
	code uint8
	regs uint8 // __u8 dst_reg:4, src_reg:4
	off  int16
	imm  int32
}

// bigEndian: C bitfields fill a byte from its low bits on little-endian
// hosts and from its high bits on big-endian ones.
var bigEndian = binary.NativeEndian.Uint16([]byte{0, 1}) == 1

// assemble encodes the program, a jump's offset counting instructions from
// the one after it.
func assemble(prog []insn) ([]bpfInsn, error) {
	at := map[string]int{}
	for i, in := range prog {
		if in.label != "" {
			at[in.label] = i
		}
	}
	out := make([]bpfInsn, len(prog))
	for i, in := range prog {
		off := int(in.off)
		if in.target != "" {
			t, ok := at[in.target]
			if !ok {
				return nil, fmt.Errorf("bpf insn %d: jump to unknown label %q", i, in.target)
			}
			off = t - i - 1
		}
		if off < math.MinInt16 || off > math.MaxInt16 {
			return nil, fmt.Errorf("bpf insn %d: jump offset %d out of range", i, off)
		}
		regs := uint8(in.src)<<4 | uint8(in.dst)&0xf
		if bigEndian {
			regs = uint8(in.dst)<<4 | uint8(in.src)&0xf
		}
		out[i] = bpfInsn{code: in.code, regs: regs, off: int16(off), imm: in.imm}
	}
	return out, nil
}
