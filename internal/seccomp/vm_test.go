//go:build amd64

package seccomp

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// data is a struct seccomp_data to run a filter against.
type data struct {
	nr   uint32
	arch uint32
	args [6]uint64
}

// bytes lays d out as the kernel does (linux/seccomp.h, little-endian).
func (d data) bytes() []byte {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint32(b[0:], d.nr)
	binary.LittleEndian.PutUint32(b[4:], d.arch)
	for i, a := range d.args {
		binary.LittleEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// run is a classic BPF interpreter for the subset of instructions the
// compiler emits, with the checks the kernel makes in seccomp_check_filter
// and bpf_check_classic: aligned 32-bit loads inside seccomp_data, jumps
// inside the program, and no falling off its end. It also counts the
// instructions executed.
func run(prog []unix.SockFilter, d data) (ret uint32, steps int, err error) {
	if len(prog) == 0 || len(prog) > maxInsns {
		return 0, 0, fmt.Errorf("program of %d insns", len(prog))
	}
	mem := d.bytes()
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		steps++
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			if in.K%4 != 0 || in.K+4 > uint32(len(mem)) {
				return 0, steps, fmt.Errorf("pc %d: load at %d", pc, in.K)
			}
			a = binary.LittleEndian.Uint32(mem[in.K:])
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			a &= in.K
		case unix.BPF_RET | unix.BPF_K:
			return in.K, steps, nil
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
			pc += branch(a == in.K, in)
		case unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K:
			pc += branch(a > in.K, in)
		case unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K:
			pc += branch(a >= in.K, in)
		case unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			pc += branch(a&in.K != 0, in)
		default:
			return 0, steps, fmt.Errorf("pc %d: opcode %#x not handled", pc, in.Code)
		}
		if pc+1 >= len(prog) {
			return 0, steps, fmt.Errorf("pc %d: jumps or falls off the end", pc)
		}
	}
	return 0, steps, fmt.Errorf("no return")
}

func branch(cond bool, in unix.SockFilter) int {
	if cond {
		return int(in.Jt)
	}
	return int(in.Jf)
}
