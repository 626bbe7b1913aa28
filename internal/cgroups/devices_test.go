package cgroups

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
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

func TestDeviceFilterProgram(t *testing.T) {
	rules := []deviceRule{denyAll, {'c', 1, 3, "rw", true}, {'b', 8, -1, "w", false}}
	want := `
		0: LdXMemW dst: r2 src: r1 off: 0 imm: 0
		1: AndImm32 dst: r2 imm: 65535
		2: LdXMemW dst: r3 src: r1 off: 0 imm: 0
		3: RShImm32 dst: r3 imm: 16
		4: LdXMemW dst: r4 src: r1 off: 4 imm: 0
		5: LdXMemW dst: r5 src: r1 off: 8 imm: 0
	rule-2:
		6: JNEImm dst: r2 off: -1 imm: 1 <rule-1>
		7: MovReg32 dst: r1 src: r3
		8: AndImm32 dst: r1 imm: 4
		9: JEqImm dst: r1 off: -1 imm: 0 <rule-1>
		10: JNE32Imm dst: r4 off: -1 imm: 8 <rule-1>
		11: MovImm32 dst: r0 imm: 0
		12: Exit
	rule-1:
		13: JNEImm dst: r2 off: -1 imm: 2 <rule-0>
		14: MovReg32 dst: r1 src: r3
		15: AndImm32 dst: r1 imm: 6
		16: JNEReg dst: r1 off: -1 src: r3 <rule-0>
		17: JNE32Imm dst: r4 off: -1 imm: 1 <rule-0>
		18: JNE32Imm dst: r5 off: -1 imm: 3 <rule-0>
		19: MovImm32 dst: r0 imm: 1
		20: Exit
	rule-0:
		21: MovImm32 dst: r0 imm: 0
		22: Exit`
	if got := deviceFilter(rules).String(); squash(got) != squash(want) {
		t.Errorf("program:\n%s\nwant:\n%s", got, want)
	}
}

func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

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
				t.Errorf("allowed = %v, want %v\n%s", got, tt.allow, deviceFilter(tt.rules))
			}
		})
	}
}

// runFilter interprets the subset of eBPF deviceFilter emits.
func runFilter(insts asm.Instructions, ctx [3]uint32) (bool, error) {
	labels := map[string]int{}
	for i, ins := range insts {
		if s := ins.Symbol(); s != "" {
			labels[s] = i
		}
	}
	var reg [11]uint64
	for pc := 0; pc < len(insts); pc++ {
		ins := insts[pc]
		op := ins.OpCode
		src := uint64(ins.Constant)
		if op.Source() == asm.RegSource {
			src = reg[ins.Src]
		}
		switch cls := op.Class(); {
		case cls == asm.LdXClass:
			reg[ins.Dst] = uint64(ctx[ins.Offset/4])
		case cls == asm.ALUClass:
			reg[ins.Dst] = uint64(uint32(alu(op.ALUOp(), reg[ins.Dst], src)))
		case op.JumpOp() == asm.Exit:
			return reg[asm.R0] == 1, nil
		case cls == asm.JumpClass || cls == asm.Jump32Class:
			a := reg[ins.Dst]
			if cls == asm.Jump32Class {
				a, src = uint64(uint32(a)), uint64(uint32(src))
			}
			if (op.JumpOp() == asm.JNE && a != src) || (op.JumpOp() == asm.JEq && a == src) {
				pc = labels[ins.Reference()] - 1
			}
		default:
			return false, fmt.Errorf("instruction %v not interpreted", ins)
		}
	}
	return false, fmt.Errorf("fell off the end")
}

func alu(op asm.ALUOp, a, b uint64) uint64 {
	switch op {
	case asm.And:
		return a & b
	case asm.RSh:
		return uint64(uint32(a) >> b)
	case asm.Mov:
		return b
	}
	panic("alu op " + op.String())
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
