package cgroups

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// deviceFilter compiles rules into a BPF_PROG_TYPE_CGROUP_DEVICE program,
// the cgroup2 replacement for devices.allow (cgroup-v2.rst, "Device
// controller"). It is built like runc's devicefilter (after crun's ebpf.c):
// one block per rule, each jumping to the next on a mismatch and returning
// the rule's verdict on a match. Blocks run from the last rule to the first,
// so the last matching rule wins, as runtime-spec orders them. A rule for
// type 'a' matches everything and ends the program; rules before it could
// never be reached.
func deviceFilter(rules []deviceRule) asm.Instructions {
	// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
	// access_type is (access << 16) | type (include/uapi/linux/bpf.h).
	insts := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // R2 = type
		asm.And.Imm32(asm.R2, 0xFFFF),
		asm.LoadMem(asm.R3, asm.R1, 0, asm.Word), // R3 = access requested
		asm.RSh.Imm32(asm.R3, 16),
		asm.LoadMem(asm.R4, asm.R1, 4, asm.Word), // R4 = major
		asm.LoadMem(asm.R5, asm.R1, 8, asm.Word), // R5 = minor
	}
	for i := len(rules) - 1; i >= 0; i-- {
		block := ruleBlock(rules[i], blockName(i-1))
		block[0] = block[0].WithSymbol(blockName(i))
		insts = append(insts, block...)
		if rules[i].typ == 'a' {
			return insts
		}
	}
	return append(insts, verdict(false)[0].WithSymbol(blockName(-1)), asm.Return())
}

func blockName(i int) string {
	if i < 0 {
		return "default-deny"
	}
	return "rule-" + strconv.Itoa(i)
}

// ruleBlock matches one rule: type, then access, major, minor, each
// skipped when the rule is a wildcard for it.
func ruleBlock(r deviceRule, next string) asm.Instructions {
	var b asm.Instructions
	switch r.typ {
	case 'a':
		return verdict(r.allow)
	case 'b':
		b = append(b, asm.JNE.Imm(asm.R2, unix.BPF_DEVCG_DEV_BLOCK, next))
	case 'c':
		b = append(b, asm.JNE.Imm(asm.R2, unix.BPF_DEVCG_DEV_CHAR, next))
	}
	b = append(b, accessCheck(r, next)...)
	// 32-bit compares: a 64-bit one would sign-extend the immediate and
	// miss majors and minors of 2^31 and above.
	if r.major >= 0 {
		b = append(b, asm.JNE.Imm32(asm.R4, int32(uint32(r.major)), next))
	}
	if r.minor >= 0 {
		b = append(b, asm.JNE.Imm32(asm.R5, int32(uint32(r.minor)), next))
	}
	return append(b, verdict(r.allow)...)
}

// accessCheck: an allow rule matches when it grants every bit asked for
// (asked & granted == asked); a deny rule when it denies any of them
// (asked & denied != 0), so "deny w" also stops an "rw" open.
func accessCheck(r deviceRule, next string) asm.Instructions {
	var bits int32
	for _, ch := range r.access {
		bits |= accessBits[ch]
	}
	if bits == unix.BPF_DEVCG_ACC_READ|unix.BPF_DEVCG_ACC_WRITE|unix.BPF_DEVCG_ACC_MKNOD {
		return nil // asks nothing of the access
	}
	b := asm.Instructions{asm.Mov.Reg32(asm.R1, asm.R3), asm.And.Imm32(asm.R1, bits)}
	if r.allow {
		return append(b, asm.JNE.Reg(asm.R1, asm.R3, next))
	}
	return append(b, asm.JEq.Imm(asm.R1, 0, next))
}

var accessBits = map[rune]int32{'r': unix.BPF_DEVCG_ACC_READ, 'w': unix.BPF_DEVCG_ACC_WRITE, 'm': unix.BPF_DEVCG_ACC_MKNOD}

func verdict(allow bool) asm.Instructions {
	var v int32
	if allow {
		v = 1
	}
	return asm.Instructions{asm.Mov.Imm32(asm.R0, v), asm.Return()}
}

// attachDeviceFilter loads the filter and attaches it to the cgroup with
// BPF_F_ALLOW_MULTI, then detaches the filters that were there before, so
// the cgroup is never without one. The attachment outlives this process
// (a BPF_PROG_ATTACH program stays until detached or the cgroup goes), which
// a bpf_link would not.
func attachDeviceFilter(c cg, rules []deviceRule) error {
	insts := deviceFilter(rules)
	return c.log.Step("cgroup bpf attach", fmt.Sprintf("%s (device filter, %d rules, %d insns)", c.dir, len(rules), len(insts)), func() error {
		fd, err := unix.Open(c.dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		old, err := link.QueryPrograms(link.QueryOptions{Target: fd, Attach: ebpf.AttachCGroupDevice})
		if err != nil {
			return err
		}
		if err := attachProgram(fd, insts); err != nil {
			return err
		}
		return detachPrograms(fd, old.Programs)
	})
}

func attachProgram(fd int, insts asm.Instructions) error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.CGroupDevice, License: "Apache", Instructions: insts,
	})
	if err != nil {
		return fmt.Errorf("load device filter: %w", err)
	}
	defer prog.Close()
	return link.RawAttachProgram(link.RawAttachProgramOptions{
		Target: fd, Program: prog, Attach: ebpf.AttachCGroupDevice, Flags: unix.BPF_F_ALLOW_MULTI,
	})
}

func detachPrograms(fd int, progs []link.AttachedProgram) error {
	var errs []error
	for _, p := range progs {
		prog, err := ebpf.NewProgramFromID(p.ID)
		if err == nil {
			err = link.RawDetachProgram(link.RawDetachProgramOptions{
				Target: fd, Program: prog, Attach: ebpf.AttachCGroupDevice,
			})
			prog.Close()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("detach old device filter %d: %w", p.ID, err))
		}
	}
	return errors.Join(errs...)
}
