package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

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
func deviceFilter(rules []deviceRule) []insn {
	// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
	// access_type is (access << 16) | type (include/uapi/linux/bpf.h).
	insts := []insn{
		ldxW(r2, r1, 0), // R2 = type
		alu32(unix.BPF_AND, r2, 0xFFFF),
		ldxW(r3, r1, 0), // R3 = access requested
		alu32(unix.BPF_RSH, r3, 16),
		ldxW(r4, r1, 4), // R4 = major
		ldxW(r5, r1, 8), // R5 = minor
	}
	for i := len(rules) - 1; i >= 0; i-- {
		block := ruleBlock(rules[i], blockName(i-1))
		block[0] = block[0].named(blockName(i))
		insts = append(insts, block...)
		if rules[i].typ == 'a' {
			return insts
		}
	}
	return append(insts, verdict(false)[0].named(blockName(-1)), exit())
}

func blockName(i int) string {
	if i < 0 {
		return "default-deny"
	}
	return "rule-" + strconv.Itoa(i)
}

// ruleBlock matches one rule: type, then access, major, minor, each
// skipped when the rule is a wildcard for it.
func ruleBlock(r deviceRule, next string) []insn {
	var b []insn
	switch r.typ {
	case 'a':
		return verdict(r.allow)
	case 'b':
		b = append(b, jump(unix.BPF_JMP, unix.BPF_JNE, r2, unix.BPF_DEVCG_DEV_BLOCK, next))
	case 'c':
		b = append(b, jump(unix.BPF_JMP, unix.BPF_JNE, r2, unix.BPF_DEVCG_DEV_CHAR, next))
	}
	b = append(b, accessCheck(r, next)...)
	// 32-bit compares: a 64-bit one would sign-extend the immediate and
	// miss majors and minors of 2^31 and above.
	if r.major >= 0 {
		b = append(b, jump(unix.BPF_JMP32, unix.BPF_JNE, r4, int32(uint32(r.major)), next))
	}
	if r.minor >= 0 {
		b = append(b, jump(unix.BPF_JMP32, unix.BPF_JNE, r5, int32(uint32(r.minor)), next))
	}
	return append(b, verdict(r.allow)...)
}

// accessCheck: an allow rule matches when it grants every bit asked for
// (asked & granted == asked); a deny rule when it denies any of them
// (asked & denied != 0), so "deny w" also stops an "rw" open.
func accessCheck(r deviceRule, next string) []insn {
	var bits int32
	for _, ch := range r.access {
		bits |= accessBits[ch]
	}
	if bits == unix.BPF_DEVCG_ACC_READ|unix.BPF_DEVCG_ACC_WRITE|unix.BPF_DEVCG_ACC_MKNOD {
		return nil // asks nothing of the access
	}
	b := []insn{alu32Reg(unix.BPF_MOV, r1, r3), alu32(unix.BPF_AND, r1, bits)}
	if r.allow {
		return append(b, jumpReg(unix.BPF_JNE, r1, r3, next))
	}
	return append(b, jump(unix.BPF_JMP, unix.BPF_JEQ, r1, 0, next))
}

var accessBits = map[rune]int32{'r': unix.BPF_DEVCG_ACC_READ, 'w': unix.BPF_DEVCG_ACC_WRITE, 'm': unix.BPF_DEVCG_ACC_MKNOD}

func verdict(allow bool) []insn {
	var v int32
	if allow {
		v = 1
	}
	return []insn{alu32(unix.BPF_MOV, r0, v), exit()}
}

// attachDeviceFilter loads the filter and attaches it to the cgroup with
// BPF_F_ALLOW_MULTI, then detaches the filters that were there before, so
// the cgroup is never without one. The attachment outlives this process
// (a BPF_PROG_ATTACH program stays until detached or the cgroup goes), which
// a bpf_link would not.
func attachDeviceFilter(c cg, rules []deviceRule) error {
	insns, err := assemble(deviceFilter(rules))
	if err != nil {
		return err
	}
	return c.log.Step("cgroup bpf attach", fmt.Sprintf("%s (device filter, %d rules, %d insns)", c.dir, len(rules), len(insns)), func() error {
		fd, err := unix.Open(c.dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		old, err := attachedDeviceFilters(fd)
		if err != nil {
			return err
		}
		if err := attachProgram(fd, insns); err != nil {
			return err
		}
		return detachPrograms(fd, old)
	})
}

// attachedDeviceFilters returns the ids of the device filters attached to
// the cgroup (fd), not counting those its ancestors run.
func attachedDeviceFilters(fd int) ([]uint32, error) {
	// The kernel allows 64 programs per cgroup and attach type
	// (BPF_CGROUP_MAX_PROGS), so the first call should do.
	ids := make([]uint32, 64)
	for {
		n, err := bpfProgQuery(fd, unix.BPF_CGROUP_DEVICE, ids)
		if err == unix.ENOSPC && n > len(ids) {
			ids = make([]uint32, n)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("query device filters: %w", err)
		}
		return ids[:min(n, len(ids))], nil
	}
}

func attachProgram(fd int, insns []bpfInsn) error {
	prog, err := loadDeviceFilter(insns)
	if err != nil {
		return fmt.Errorf("load device filter: %w", err)
	}
	defer unix.Close(prog)
	if err := bpfProgAttach(fd, prog, unix.BPF_CGROUP_DEVICE, unix.BPF_F_ALLOW_MULTI); err != nil {
		return fmt.Errorf("attach device filter: %w", err)
	}
	return nil
}

// loadDeviceFilter loads the program. If the kernel refuses it, it tries
// again with the verifier's log, for the error: only then, as logging
// slows the verifier. The license does not matter: a device filter calls
// no GPL-only helper.
func loadDeviceFilter(insns []bpfInsn) (int, error) {
	fd, err := bpfProgLoad(unix.BPF_PROG_TYPE_CGROUP_DEVICE, insns, "Apache", nil)
	if err == nil {
		return fd, nil
	}
	log := make([]byte, 64<<10)
	if fd, err := bpfProgLoad(unix.BPF_PROG_TYPE_CGROUP_DEVICE, insns, "Apache", log); err == nil {
		return fd, nil
	}
	if log, _, _ = bytes.Cut(log, []byte{0}); len(log) > 0 {
		return -1, fmt.Errorf("%w; verifier log:\n%s", err, bytes.TrimSpace(log))
	}
	return -1, err
}

func detachPrograms(fd int, ids []uint32) error {
	var errs []error
	for _, id := range ids {
		prog, err := bpfProgGetFDByID(id)
		if err == nil {
			err = bpfProgDetach(fd, prog, unix.BPF_CGROUP_DEVICE)
			unix.Close(prog)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("detach old device filter %d: %w", id, err))
		}
	}
	return errors.Join(errs...)
}
