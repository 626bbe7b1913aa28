//go:build amd64

package seccomp

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const (
	allow   = unix.SECCOMP_RET_ALLOW
	killT   = unix.SECCOMP_RET_KILL_THREAD
	killP   = unix.SECCOMP_RET_KILL_PROCESS
	trap    = unix.SECCOMP_RET_TRAP
	logRet  = unix.SECCOMP_RET_LOG
	notify  = unix.SECCOMP_RET_USER_NOTIF
	badArch = killT
)

func errnoRet(e uint32) uint32 { return unix.SECCOMP_RET_ERRNO | e }
func traceRet(e uint32) uint32 { return unix.SECCOMP_RET_TRACE | e }
func u(v uint) *uint           { return &v }

// nr is the number of a syscall in an ABI; the test fails if there is none.
func nr(abi abiID, name string) uint32 {
	n, ok := lookup(name, abi)
	if !ok {
		panic("no syscall " + name + " in " + abis[abi].name)
	}
	return n
}

func call64(name string, args ...uint64) data { return mkdata(abiX86_64, nr(abiX86_64, name), args) }
func call32(name string, args ...uint64) data { return mkdata(abiX86, nr(abiX86, name), args) }
func callX32(name string, args ...uint64) data {
	return mkdata(abiX32, nr(abiX32, name), args)
}

func mkdata(abi abiID, n uint32, args []uint64) data {
	d := data{nr: n, arch: abis[abi].audit}
	copy(d.args[:], args)
	return d
}

func sc(action specs.LinuxSeccompAction, names ...string) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: names, Action: action}
}

func withErrno(s specs.LinuxSyscall, e uint) specs.LinuxSyscall { s.ErrnoRet = &e; return s }

func withArgs(s specs.LinuxSyscall, args ...specs.LinuxSeccompArg) specs.LinuxSyscall {
	s.Args = args
	return s
}

func arg(i uint, op specs.LinuxSeccompOperator, v uint64) specs.LinuxSeccompArg {
	return specs.LinuxSeccompArg{Index: i, Op: op, Value: v}
}

func mustCompile(t testing.TB, s *specs.LinuxSeccomp) *Program {
	t.Helper()
	p, err := Compile(s)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

type probe struct {
	name string
	in   data
	want uint32
}

func checkProbes(t *testing.T, p *Program, probes []probe) {
	t.Helper()
	for _, pr := range probes {
		got, _, err := run(p.Filter, pr.in)
		if err != nil {
			t.Errorf("%s: %v", pr.name, err)
		} else if got != pr.want {
			t.Errorf("%s: got %#x, want %#x", pr.name, got, pr.want)
		}
	}
}

func TestActions(t *testing.T) {
	p := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		ListenerPath:  "/run/agent.sock",
		Syscalls: []specs.LinuxSyscall{
			sc(specs.ActKill, "getpid"),
			sc(specs.ActKillProcess, "getppid"),
			sc(specs.ActKillThread, "gettid"),
			sc(specs.ActTrap, "getuid"),
			sc(specs.ActErrno, "getgid"),
			withErrno(sc(specs.ActErrno, "geteuid"), 1234),
			sc(specs.ActTrace, "getegid"),
			withErrno(sc(specs.ActTrace, "getpgrp"), 7),
			sc(specs.ActLog, "uname"),
			sc(specs.ActNotify, "umask"),
			sc(specs.ActAllow, "sync"),
		},
	})
	checkProbes(t, p, []probe{
		{"KILL is KILL_THREAD", call64("getpid"), killT},
		{"KILL_PROCESS", call64("getppid"), killP},
		{"KILL_THREAD", call64("gettid"), killT},
		{"TRAP", call64("getuid"), trap},
		{"ERRNO defaults to EPERM", call64("getgid"), errnoRet(uint32(unix.EPERM))},
		{"ERRNO errnoRet", call64("geteuid"), errnoRet(1234)},
		{"TRACE defaults to EPERM", call64("getegid"), traceRet(uint32(unix.EPERM))},
		{"TRACE errnoRet", call64("getpgrp"), traceRet(7)},
		{"LOG", call64("uname"), logRet},
		{"NOTIFY", call64("umask"), notify},
		{"ALLOW like the default", call64("sync"), allow},
		{"no rule", call64("read"), allow},
	})
	if !p.Notify || p.Flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER == 0 {
		t.Errorf("Notify %v, flags %#x: want a listener", p.Notify, p.Flags)
	}
}

func TestDefaultAction(t *testing.T) {
	getpid := nr(abiX86_64, "getpid") // 39: every number above it is newer than the profile
	tests := []struct {
		name       string
		def        specs.LinuxSeccompAction
		errno      *uint
		below, new uint32 // for nr 38, and for nr 40 and up
	}{
		{"ERRNO", specs.ActErrno, nil, errnoRet(1), errnoRet(uint32(unix.ENOSYS))},
		{"ERRNO errnoRet", specs.ActErrno, u(13), errnoRet(13), errnoRet(uint32(unix.ENOSYS))},
		{"KILL_PROCESS", specs.ActKillProcess, nil, killP, errnoRet(uint32(unix.ENOSYS))},
		{"TRAP", specs.ActTrap, nil, trap, errnoRet(uint32(unix.ENOSYS))},
		// Permissive defaults need no ENOSYS for new syscalls (runc).
		{"ALLOW", specs.ActAllow, nil, allow, allow},
		{"LOG", specs.ActLog, nil, logRet, logRet},
		{"TRACE", specs.ActTrace, u(5), traceRet(5), traceRet(5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prof := &specs.LinuxSeccomp{DefaultAction: tt.def, DefaultErrnoRet: tt.errno,
				Syscalls: []specs.LinuxSyscall{withErrno(sc(specs.ActErrno, "getpid"), 99)}}
			p := mustCompile(t, prof)
			checkProbes(t, p, []probe{
				{"named", call64("getpid"), errnoRet(99)},
				{"below", mkdata(abiX86_64, getpid-1, nil), tt.below},
				{"zero", mkdata(abiX86_64, 0, nil), tt.below},
				{"just above", mkdata(abiX86_64, getpid+1, nil), tt.new},
				{"far above", mkdata(abiX86_64, 1000, nil), tt.new},
			})
		})
	}
}

func TestArchitectures(t *testing.T) {
	rules := []specs.LinuxSyscall{sc(specs.ActAllow, "getpid", "ioctl", "socketcall")}
	prof := func(archs ...specs.Arch) *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: archs, Syscalls: rules}
	}
	eperm := errnoRet(uint32(unix.EPERM))
	t.Run("native only", func(t *testing.T) {
		checkProbes(t, mustCompile(t, prof()), []probe{
			{"x86_64 getpid", call64("getpid"), allow},
			{"x86_64 nr 0", mkdata(abiX86_64, 0, nil), eperm},
			{"i386 is a bad arch", call32("getpid"), badArch},
			{"x32 is a bad arch", callX32("getpid"), badArch},
			{"x86_64 nr -1", data{nr: 0xffffffff, arch: unix.AUDIT_ARCH_X86_64}, badArch},
			{"aarch64", data{nr: 172, arch: unix.AUDIT_ARCH_AARCH64}, badArch},
		})
	})
	t.Run("x86 too", func(t *testing.T) {
		checkProbes(t, mustCompile(t, prof(specs.ArchX86_64, specs.ArchX86)), []probe{
			{"x86_64 getpid", call64("getpid"), allow},
			{"i386 getpid (20)", call32("getpid"), allow},
			{"i386 socketcall", call32("socketcall"), allow},
			{"i386 nr 39 is mkdir", mkdata(abiX86, 39, nil), eperm},
			{"x32 still bad", callX32("getpid"), badArch},
		})
	})
	t.Run("x32 too", func(t *testing.T) {
		checkProbes(t, mustCompile(t, prof(specs.ArchX32)), []probe{
			{"x86_64 getpid", call64("getpid"), allow},
			{"x32 getpid", callX32("getpid"), allow},
			{"x32 ioctl (x32 number 514)", callX32("ioctl"), allow},
			{"x32 with the x86_64 ioctl number", data{nr: x32Bit | 16, arch: unix.AUDIT_ARCH_X86_64}, eperm},
			{"x32 nr -1", data{nr: 0xffffffff, arch: unix.AUDIT_ARCH_X86_64}, errnoRet(uint32(unix.ENOSYS))},
			{"i386 still bad", call32("getpid"), badArch},
		})
	})
}

// TestArgOps compares every operator against Go's own comparison, over
// values chosen around both 32-bit halves, on a 64-bit ABI and on a 32-bit
// one, where libseccomp compares the low halves only.
func TestArgOps(t *testing.T) {
	values := []uint64{0, 1, 4, 5, 6, 0xffffffff, 1 << 32, 1<<32 + 1, 1<<32 + 5, 0x1ffffffff, 2 << 32, 0xfffffffffffffffe, ^uint64(0)}
	ops := []specs.LinuxSeccompOperator{specs.OpEqualTo, specs.OpNotEqual, specs.OpLessThan,
		specs.OpLessEqual, specs.OpGreaterThan, specs.OpGreaterEqual}
	for _, op := range ops {
		for _, v := range values {
			prof := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86},
				Syscalls: []specs.LinuxSyscall{withArgs(withErrno(sc(specs.ActErrno, "getpriority"), 99), arg(1, op, v))}}
			p := mustCompile(t, prof)
			for _, a := range values {
				for _, d := range []data{call64("getpriority", 0, a), call32("getpriority", 0, a)} {
					wide := d.arch == unix.AUDIT_ARCH_X86_64
					want := uint32(allow)
					if holds(cond{arg: 1, op: op, value: v}, d.args, wide) {
						want = errnoRet(99)
					}
					got, _, err := run(p.Filter, d)
					if err != nil || got != want {
						t.Errorf("%s %#x, arg %#x (64-bit %v): got %#x (%v), want %#x", op, v, a, wide, got, err, want)
					}
				}
			}
		}
	}
}

func TestMaskedEqual(t *testing.T) {
	m := specs.LinuxSeccompArg{Index: 2, Op: specs.OpMaskedEqual, Value: 0xff000000000000f0, ValueTwo: 0x1200000000000030}
	p := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86},
		Syscalls: []specs.LinuxSyscall{withArgs(withErrno(sc(specs.ActErrno, "getpriority"), 9), m)}})
	hit := errnoRet(9)
	checkProbes(t, p, []probe{
		{"both halves match", call64("getpriority", 0, 0, 0x12abcdef00000031), hit},
		{"only masked bits count", call64("getpriority", 0, 0, 0x12000000ffffff3f), hit},
		{"high half differs", call64("getpriority", 0, 0, 0x1300000000000030), allow},
		{"low half differs", call64("getpriority", 0, 0, 0x1200000000000040), allow},
		{"zero", call64("getpriority", 0, 0, 0), allow},
		{"32-bit ABI: low half only", call32("getpriority", 0, 0, 0x35), hit},
		{"32-bit ABI: low half differs", call32("getpriority", 0, 0, 0x1200000000000020), allow},
	})
	// Docker's clone rule: no namespace flag in arg 0.
	clone := specs.LinuxSeccompArg{Index: 0, Op: specs.OpMaskedEqual, Value: 0x7e020000}
	p = mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActErrno,
		Syscalls: []specs.LinuxSyscall{withArgs(sc(specs.ActAllow, "clone"), clone)}})
	checkProbes(t, p, []probe{
		{"thread clone", call64("clone", unix.CLONE_VM|unix.CLONE_THREAD|unix.CLONE_SIGHAND), allow},
		{"CLONE_NEWUSER", call64("clone", unix.CLONE_NEWUSER), errnoRet(1)},
	})
}

func TestAndOr(t *testing.T) {
	eq := specs.OpEqualTo
	p := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		// AND within a rule.
		withArgs(withErrno(sc(specs.ActErrno, "umask"), 10), arg(0, eq, 1), arg(1, eq, 2)),
		// OR across rules; the first that holds decides.
		withArgs(withErrno(sc(specs.ActErrno, "getpriority"), 11), arg(0, eq, 1)),
		withArgs(withErrno(sc(specs.ActErrno, "getpriority"), 12), arg(1, eq, 7)),
		// Conditions on one argument are ORed (runc).
		withArgs(withErrno(sc(specs.ActErrno, "setpriority"), 13), arg(0, eq, 1), arg(0, eq, 2)),
	}})
	checkProbes(t, p, []probe{
		{"AND both", call64("umask", 1, 2), errnoRet(10)},
		{"AND first only", call64("umask", 1, 3), allow},
		{"AND second only", call64("umask", 0, 2), allow},
		{"OR first", call64("getpriority", 1, 0), errnoRet(11)},
		{"OR second", call64("getpriority", 0, 7), errnoRet(12)},
		{"OR both: first rule", call64("getpriority", 1, 7), errnoRet(11)},
		{"OR neither", call64("getpriority", 0, 0), allow},
		{"same arg 1", call64("setpriority", 1), errnoRet(13)},
		{"same arg 2", call64("setpriority", 2), errnoRet(13)},
		{"same arg 3", call64("setpriority", 3), allow},
	})
	if !strings.Contains(strings.Join(p.Warnings, "\n"), "syscalls[3].args: several conditions on one argument") {
		t.Errorf("warnings %q: want one about syscalls[3].args", p.Warnings)
	}
}

// TestRuleMerging follows libseccomp's db.c: a rule without conditions
// decides alone, and the first one wins; rules whose action is the default
// are dropped (seccomp_rule_add(3) refuses them, runc skips them).
func TestRuleMerging(t *testing.T) {
	eq := specs.OpEqualTo
	p := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: u(1), Syscalls: []specs.LinuxSyscall{
		withArgs(withErrno(sc(specs.ActErrno, "getppid"), 13), arg(0, eq, 1)),
		withErrno(sc(specs.ActErrno, "getppid"), 14),
		withErrno(sc(specs.ActErrno, "getppid"), 15),
		withArgs(withErrno(sc(specs.ActErrno, "getppid"), 16), arg(0, eq, 2)),
		withErrno(sc(specs.ActErrno, "umask"), 1), // the default: dropped
		withArgs(sc(specs.ActAllow, "umask"), arg(0, eq, 5)),
		sc(specs.ActAllow, "mmap"), // keeps umask below the ENOSYS floor
	}})
	checkProbes(t, p, []probe{
		{"unconditional replaces earlier conditional", call64("getppid", 1), errnoRet(14)},
		{"first unconditional wins over later ones", call64("getppid", 0), errnoRet(14)},
		{"later conditional dropped", call64("getppid", 2), errnoRet(14)},
		{"default-action rule dropped", call64("umask", 5), allow},
		{"default-action rule dropped, other arg", call64("umask", 6), errnoRet(1)},
	})
}

func TestWarnings(t *testing.T) {
	p := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchAARCH64},
		Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv},
		Syscalls:      []specs.LinuxSyscall{sc(specs.ActAllow, "read", "no_such_call", "socketcall")},
	})
	got := strings.Join(p.Warnings, "\n")
	for _, want := range []string{
		`linux.seccomp.syscalls[0].names[1]: unknown syscall "no_such_call" ignored`,
		"linux.seccomp.architectures[1]: SCMP_ARCH_AARCH64 ignored",
		"WAIT_KILLABLE_RECV ignored",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings %q: want %q", got, want)
		}
	}
	// socketcall exists on i386 only: known, so no warning.
	if strings.Contains(got, "socketcall") || len(p.Warnings) != 3 {
		t.Errorf("warnings %q: want exactly the three above", got)
	}
	if p.Flags != 0 {
		t.Errorf("flags %#x: want none", p.Flags)
	}
}

func TestFlags(t *testing.T) {
	p := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		ListenerPath:  "/x",
		Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_TSYNC", specs.LinuxSeccompFlagLog,
			specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv},
		Syscalls: []specs.LinuxSyscall{sc(specs.ActNotify, "mkdir")},
	})
	// TSYNC is accepted and left out, as runc does.
	want := uint(unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW |
		unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER)
	if p.Flags != want {
		t.Errorf("flags %#x, want %#x", p.Flags, want)
	}
}

func TestErrors(t *testing.T) {
	ok := func() *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{sc(specs.ActAllow, "read")}}
	}
	tests := []struct {
		name string
		edit func(*specs.LinuxSeccomp)
		want string
	}{
		{"default action", func(s *specs.LinuxSeccomp) { s.DefaultAction = "SCMP_ACT_NOPE" }, `linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"`},
		{"default notify", func(s *specs.LinuxSeccomp) { s.DefaultAction = specs.ActNotify }, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be"},
		{"defaultErrnoRet with ALLOW", func(s *specs.LinuxSeccomp) { s.DefaultAction, s.DefaultErrnoRet = specs.ActAllow, u(1) }, "linux.seccomp.defaultAction: errnoRet is only valid"},
		{"errnoRet too big", func(s *specs.LinuxSeccomp) { s.DefaultErrnoRet = u(70000) }, "errnoRet 70000 does not fit"},
		{"arch", func(s *specs.LinuxSeccomp) { s.Architectures = []specs.Arch{"SCMP_ARCH_VAX"} }, `linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_VAX"`},
		{"flag", func(s *specs.LinuxSeccomp) { s.Flags = []specs.LinuxSeccompFlag{"X"} }, `linux.seccomp.flags[0]: unknown flag "X"`},
		{"action", func(s *specs.LinuxSeccomp) { s.Syscalls[0].Action = "ALLOW" }, `linux.seccomp.syscalls[0].action: unknown action "ALLOW"`},
		{"errnoRet with KILL", func(s *specs.LinuxSeccomp) { s.Syscalls[0] = withErrno(sc(specs.ActKill, "read"), 1) }, "linux.seccomp.syscalls[0].action: errnoRet is only valid"},
		{"no names", func(s *specs.LinuxSeccomp) { s.Syscalls[0].Names = nil }, "linux.seccomp.syscalls[0].names: at least one"},
		{"empty name", func(s *specs.LinuxSeccomp) { s.Syscalls[0].Names = []string{"read", ""} }, "linux.seccomp.syscalls[0].names[1]: empty syscall name"},
		{"arg index", func(s *specs.LinuxSeccomp) { s.Syscalls[0].Args = []specs.LinuxSeccompArg{arg(6, specs.OpEqualTo, 0)} }, "linux.seccomp.syscalls[0].args[0].index: 6 is out of range"},
		{"op", func(s *specs.LinuxSeccomp) { s.Syscalls[0].Args = []specs.LinuxSeccompArg{arg(0, "SCMP_CMP_XOR", 0)} }, `linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_XOR"`},
		{"notify without listener", func(s *specs.LinuxSeccomp) { s.Syscalls[0].Action = specs.ActNotify }, "linux.seccomp.listenerPath: required"},
	}
	for _, tt := range tests {
		s := ok()
		tt.edit(s)
		_, err := Compile(s)
		var pe *ProfileError
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &pe) {
			t.Errorf("%s: got %v, want a ProfileError with %q", tt.name, err, tt.want)
		}
	}
	if _, err := Compile(nil); err == nil {
		t.Error("Compile(nil): no error")
	}
}

func TestHashStable(t *testing.T) {
	a := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{sc(specs.ActAllow, "read")}}
	b := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{sc(specs.ActAllow, "read")}}
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{sc(specs.ActAllow, "write")}}
	if mustCompile(t, a).Hash() != ProfileHash(b) || ProfileHash(a) == ProfileHash(c) || len(ProfileHash(a)) != 64 {
		t.Errorf("hashes: %s %s %s", ProfileHash(a), ProfileHash(b), ProfileHash(c))
	}
}

// TestHashCoversSpec fails when the runtime-spec's seccomp types grow or
// lose a field: ProfileHash must then hash it, or two profiles that differ
// in it would share a cached filter.
func TestHashCoversSpec(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want int
	}{{specs.LinuxSeccomp{}, 7}, {specs.LinuxSyscall{}, 4}, {specs.LinuxSeccompArg{}, 4}} {
		if n := reflect.TypeOf(tt.v).NumField(); n != tt.want {
			t.Errorf("%T has %d fields, ProfileHash knows %d", tt.v, n, tt.want)
		}
	}
	// Every field changes the hash.
	base := func() *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Op: specs.OpEqualTo}}}}}
	}
	edits := []func(*specs.LinuxSeccomp){
		func(s *specs.LinuxSeccomp) { s.DefaultAction = specs.ActKill },
		func(s *specs.LinuxSeccomp) { s.DefaultErrnoRet = u(0) },
		func(s *specs.LinuxSeccomp) { s.Architectures = []specs.Arch{specs.ArchX86} },
		func(s *specs.LinuxSeccomp) { s.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog} },
		func(s *specs.LinuxSeccomp) { s.ListenerPath = "/x" },
		func(s *specs.LinuxSeccomp) { s.ListenerMetadata = "x" },
		func(s *specs.LinuxSeccomp) { s.Syscalls[0].Names[0] = "write" },
		func(s *specs.LinuxSeccomp) { s.Syscalls[0].Action = specs.ActLog },
		func(s *specs.LinuxSeccomp) { s.Syscalls[0].ErrnoRet = u(0) },
		func(s *specs.LinuxSeccomp) { s.Syscalls[0].Args[0].Index = 1 },
		func(s *specs.LinuxSeccomp) { s.Syscalls[0].Args[0].Value = 1 },
		func(s *specs.LinuxSeccomp) { s.Syscalls[0].Args[0].ValueTwo = 1 },
		func(s *specs.LinuxSeccomp) { s.Syscalls[0].Args[0].Op = specs.OpNotEqual },
		func(s *specs.LinuxSeccomp) { s.Syscalls[0].Names = []string{"rea", "d"} },
	}
	seen := map[string]int{ProfileHash(base()): -1}
	for i, edit := range edits {
		s := base()
		edit(s)
		h := ProfileHash(s)
		if j, dup := seen[h]; dup {
			t.Errorf("edit %d hashes like edit %d", i, j)
		}
		seen[h] = i
	}
}

func TestTables(t *testing.T) {
	tests := []struct {
		abi  abiID
		name string
		want int64
	}{
		{abiX86_64, "read", 0}, {abiX86_64, "getpid", 39}, {abiX86_64, "clone3", 435},
		{abiX86, "getpid", 20}, {abiX86, "socketcall", 102}, {abiX86, "_llseek", 140},
		{abiX32, "getpid", x32Bit | 39}, {abiX32, "ioctl", x32Bit | 514}, {abiX32, "execve", x32Bit | 520},
		{abiX32, "clone3", x32Bit | 435},
		{abiX86_64, "socketcall", -1}, {abiX32, "map_shadow_stack", -1}, {abiX86_64, "no_such_call", -1},
	}
	for _, tt := range tests {
		got, ok := lookup(tt.name, tt.abi)
		if (tt.want < 0) == ok || (ok && int64(got) != tt.want) {
			t.Errorf("%s %s: got %#x %v, want %#x", abis[tt.abi].name, tt.name, got, ok, tt.want)
		}
	}
	for i := 1; i < len(syscallTable); i++ {
		if syscallTable[i-1].name >= syscallTable[i].name {
			t.Fatalf("table not sorted at %q", syscallTable[i].name)
		}
	}
}

// lookup returns the number of name in an ABI.
func lookup(name string, abi abiID) (uint32, bool) {
	e, ok := find(name)
	if !ok {
		return 0, false
	}
	return e.nr(abi)
}
