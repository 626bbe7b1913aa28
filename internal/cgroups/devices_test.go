package cgroups

import (
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestDeviceRules(t *testing.T) {
	tests := []struct {
		in   specs.LinuxDeviceCgroup
		want string
		err  string
	}{
		{specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rw"}, "c 1:3 rw", ""},
		{specs.LinuxDeviceCgroup{Type: "b", Major: ptr(int64(8))}, "b 8:* rwm", ""},
		{specs.LinuxDeviceCgroup{Type: "c", Major: ptr(int64(-1)), Minor: ptr(int64(-1)), Access: "m"}, "c *:* m", ""},
		// type a is every device, whatever else the entry says (v1 semantics)
		{specs.LinuxDeviceCgroup{Type: "a", Major: ptr(int64(1)), Access: "r"}, "a *:* rwm", ""},
		{specs.LinuxDeviceCgroup{}, "a *:* rwm", ""},
		{specs.LinuxDeviceCgroup{Type: "p"}, "", "device type"},
		{specs.LinuxDeviceCgroup{Type: "c", Access: "rx"}, "", "access"},
		{specs.LinuxDeviceCgroup{Type: "c", Access: "rr"}, "", "access"},
		{specs.LinuxDeviceCgroup{Type: "c", Major: ptr(int64(-2))}, "", "major"},
		{specs.LinuxDeviceCgroup{Type: "c", Minor: ptr(int64(1 << 32))}, "", "minor"},
	}
	for _, tt := range tests {
		rules, err := deviceRules([]specs.LinuxDeviceCgroup{tt.in})
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%+v: err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || rules[0] != denyAll || rules[1].String() != tt.want || len(rules) != 2+len(defaultDevices) {
			t.Errorf("%+v: got %v, %v; want deny-all, %q, defaults", tt.in, rules, err, tt.want)
		}
	}
}

// TestDeviceFilterProgram checks the assembled program, listed as the
// kernel's verifier log prints instructions (kernel/bpf/disasm.c), with
// deviceFilter's labels.
func TestDeviceFilterProgram(t *testing.T) {
	rules := []deviceRule{denyAll, {'c', 1, 3, "rw", true}, {'b', 8, -1, "w", false}}
	want := `
		0: (61) r2 = *(u32 *)(r1 +0)
		1: (54) w2 &= 65535
		2: (61) r3 = *(u32 *)(r1 +0)
		3: (74) w3 >>= 16
		4: (61) r4 = *(u32 *)(r1 +4)
		5: (61) r5 = *(u32 *)(r1 +8)
	rule-2:
		6: (55) if r2 != 0x1 goto pc+6
		7: (bc) w1 = w3
		8: (54) w1 &= 4
		9: (15) if r1 == 0x0 goto pc+3
		10: (56) if w4 != 0x8 goto pc+2
		11: (b4) w0 = 0
		12: (95) exit
	rule-1:
		13: (55) if r2 != 0x2 goto pc+7
		14: (bc) w1 = w3
		15: (54) w1 &= 6
		16: (5d) if r1 != r3 goto pc+4
		17: (56) if w4 != 0x1 goto pc+3
		18: (56) if w5 != 0x3 goto pc+2
		19: (b4) w0 = 1
		20: (95) exit
	rule-0:
		21: (b4) w0 = 0
		22: (95) exit`
	if got := listing(t, deviceFilter(rules)); squash(got) != squash(want) {
		t.Errorf("program:\n%s\nwant:\n%s", got, want)
	}
}

func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// listing assembles prog and prints it with its labels.
func listing(t *testing.T, prog []insn) string {
	t.Helper()
	insns, err := assemble(prog)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, in := range insns {
		if prog[i].label != "" {
			fmt.Fprintf(&b, "%s:\n", prog[i].label)
		}
		fmt.Fprintf(&b, "\t%d: (%02x) %s\n", i, in.code, disasm(in))
	}
	return b.String()
}

// disasm prints the instructions deviceFilter emits as the kernel does.
func disasm(in bpfInsn) string {
	op := map[uint8]string{unix.BPF_JNE: "!=", unix.BPF_JEQ: "=="}[in.code&0xf0]
	w := 'r'
	if c := in.code & 0x07; c == unix.BPF_ALU {
		op = map[uint8]string{unix.BPF_AND: "&=", unix.BPF_RSH: ">>=", unix.BPF_MOV: "="}[in.code&0xf0]
	} else if c == unix.BPF_JMP32 {
		w = 'w'
	}
	switch c, x := in.code&0x07, in.code&unix.BPF_X != 0; {
	case in.code == unix.BPF_LDX|unix.BPF_MEM|unix.BPF_W:
		return fmt.Sprintf("r%d = *(u32 *)(r%d %+d)", in.dst(), in.src(), in.off)
	case in.code == unix.BPF_JMP|unix.BPF_EXIT:
		return "exit"
	case c == unix.BPF_ALU && x:
		return fmt.Sprintf("w%d %s w%d", in.dst(), op, in.src())
	case c == unix.BPF_ALU:
		return fmt.Sprintf("w%d %s %d", in.dst(), op, in.imm)
	case x:
		return fmt.Sprintf("if %c%d %s %c%d goto pc%+d", w, in.dst(), op, w, in.src(), in.off)
	default:
		return fmt.Sprintf("if %c%d %s %#x goto pc%+d", w, in.dst(), op, uint32(in.imm), in.off)
	}
}

func (in bpfInsn) dst() reg {
	if bigEndian {
		return reg(in.regs >> 4)
	}
	return reg(in.regs & 0xf)
}

func (in bpfInsn) src() reg {
	if bigEndian {
		return reg(in.regs & 0xf)
	}
	return reg(in.regs >> 4)
}

func TestAssembleErrors(t *testing.T) {
	if _, err := assemble([]insn{jump(unix.BPF_JMP, unix.BPF_JEQ, r1, 0, "nowhere"), exit()}); err == nil {
		t.Error("jump to an unknown label assembled")
	}
	far := make([]insn, 1<<15+2)
	far[0] = jump(unix.BPF_JMP, unix.BPF_JEQ, r1, 0, "end")
	far[len(far)-1] = exit().named("end")
	if _, err := assemble(far); err == nil {
		t.Error("jump past 32767 instructions assembled")
	}
}

// TestDeviceFilterSemantics runs generated programs in a small interpreter
// of the instructions deviceFilter emits, against the access checks the
// kernel would ask for.
func TestDeviceFilterSemantics(t *testing.T) {
	const r, w, m = unix.BPF_DEVCG_ACC_READ, unix.BPF_DEVCG_ACC_WRITE, unix.BPF_DEVCG_ACC_MKNOD
	const c, b = unix.BPF_DEVCG_DEV_CHAR, unix.BPF_DEVCG_DEV_BLOCK
	defaults, err := deviceRules(nil)
	if err != nil {
		t.Fatal(err)
	}
	withCfg := func(cfg ...deviceRule) []deviceRule {
		return append(append([]deviceRule{denyAll}, cfg...), defaultDevices...)
	}
	tests := []struct {
		name                string
		rules               []deviceRule
		typ, acc, maj, min_ uint32
		allow               bool
	}{
		{"null rw", defaults, c, r | w, 1, 3, true},
		{"null mknod", defaults, c, m, 1, 3, true},
		{"pts any minor", defaults, c, r | w, 136, 42, true},
		{"sda read", defaults, b, r, 8, 0, false},
		{"sda mknod (wildcard m)", defaults, b, m, 8, 0, true},
		{"fuse not by default", defaults, c, r, 10, 229, false},
		{"fuse allowed rw", withCfg(deviceRule{'c', 10, 229, "rw", true}), c, r | w, 10, 229, true},
		{"fuse rw allowed, not rwm", withCfg(deviceRule{'c', 10, 229, "rw", true}), c, r | w | m, 10, 229, false},
		{"allow r only, rw asked", withCfg(deviceRule{'c', 10, 229, "r", true}), c, r | w, 10, 229, false},
		{"later rule wins: allow all then deny sda", withCfg(deviceRule{'a', -1, -1, "rwm", true}, deviceRule{'b', 8, 0, "rwm", false}), b, r, 8, 0, false},
		{"later rule wins: allow all, other disk", withCfg(deviceRule{'a', -1, -1, "rwm", true}, deviceRule{'b', 8, 0, "rwm", false}), b, r, 8, 16, true},
		{"deny w stops an rw open", withCfg(deviceRule{'a', -1, -1, "rwm", true}, deviceRule{'b', 8, 0, "w", false}), b, r | w, 8, 0, false},
		{"deny w leaves r", withCfg(deviceRule{'a', -1, -1, "rwm", true}, deviceRule{'b', 8, 0, "w", false}), b, r, 8, 0, true},
		{"defaults beat a config deny", withCfg(deviceRule{'c', 1, 3, "rwm", false}), c, r, 1, 3, true},
		{"config deny all after allows", withCfg(deviceRule{'c', 10, 229, "rwm", true}, denyAll), c, r, 10, 229, false},
		{"high major compares 32-bit", withCfg(deviceRule{'c', 1 << 31, 1<<32 - 1, "rwm", true}), c, r, 1 << 31, 1<<32 - 1, true},
		{"high major mismatch", withCfg(deviceRule{'c', 1 << 31, 0, "rwm", true}), c, r, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runFilter(deviceFilter(tt.rules), [3]uint32{tt.acc<<16 | tt.typ, tt.maj, tt.min_})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.allow {
				t.Errorf("allowed = %v, want %v\n%s", got, tt.allow, listing(t, deviceFilter(tt.rules)))
			}
		})
	}
}

// runFilter interprets the subset of eBPF deviceFilter emits, as
// assembled: it follows the encoded jump offsets.
func runFilter(prog []insn, ctx [3]uint32) (bool, error) {
	insns, err := assemble(prog)
	if err != nil {
		return false, err
	}
	var reg [11]uint64
	for pc := 0; pc >= 0 && pc < len(insns); pc++ {
		in := insns[pc]
		src := uint64(int64(in.imm)) // sign-extended, as the kernel does
		if in.code&unix.BPF_X != 0 {
			src = reg[in.src()]
		}
		switch cls, op := in.code&0x07, in.code&0xf0; {
		case in.code == unix.BPF_LDX|unix.BPF_MEM|unix.BPF_W && in.src() == r1 && in.off%4 == 0 && in.off < 12:
			reg[in.dst()] = uint64(ctx[in.off/4])
		case cls == unix.BPF_ALU:
			reg[in.dst()] = uint64(alu(op, uint32(reg[in.dst()]), uint32(src)))
		case in.code == unix.BPF_JMP|unix.BPF_EXIT:
			return reg[r0] == 1, nil
		case (cls == unix.BPF_JMP || cls == unix.BPF_JMP32) && (op == unix.BPF_JNE || op == unix.BPF_JEQ):
			a := reg[in.dst()]
			if cls == unix.BPF_JMP32 {
				a, src = uint64(uint32(a)), uint64(uint32(src))
			}
			if (op == unix.BPF_JNE) == (a != src) {
				pc += int(in.off)
			}
		default:
			return false, fmt.Errorf("instruction %d (%02x) not interpreted", pc, in.code)
		}
	}
	return false, fmt.Errorf("jumped out of the program")
}

func alu(op uint8, a, b uint32) uint32 {
	switch op {
	case unix.BPF_AND:
		return a & b
	case unix.BPF_RSH:
		return a >> b
	case unix.BPF_MOV:
		return b
	}
	panic(fmt.Sprintf("alu op %#x", op))
}

func TestDevicesV1Writes(t *testing.T) {
	f, l := v1Fixture(t, []string{"devices"})
	m, _ := f.manager(Config{ID: "c1"}, l)
	err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: true, Type: "b", Major: ptr(int64(8)), Minor: ptr(int64(0)), Access: "r"},
		{Allow: false, Type: "c", Major: ptr(int64(4))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := append(prefixed("devices/hako/c1/", "devices.deny = a", "devices.allow = b 8:0 r", "devices.deny = c 4:* rwm"),
		prefixed("devices/hako/c1/", defaultDeviceWrites...)...)
	diffLines(t, "writes", f.takeWrites(), want)
}

// A rootless container that may not set device rules goes on without them.
func TestDevicesRootless(t *testing.T) {
	f, l := v2Fixture(t, nil)
	m, _ := f.manager(Config{ID: "c1", Rootless: true}, l)
	m.attach = func(cg, []deviceRule) error { return unix.EPERM }
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if s := m.Skipped(); len(s) != 1 || s[0] != "devices" {
		t.Errorf("Skipped() = %v", s)
	}
	m.rootless = false
	if err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{}}}); err == nil {
		t.Error("attach failure ignored without rootless")
	}
}
