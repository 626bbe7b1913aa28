package initplan

import (
	"encoding/binary"
	"errors"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/spec"
	"hako/internal/trace"
)

// TestWireConstantsMatchC: the operation numbers, argument kinds and flags
// are defined twice, here and in internal/nsenter/c/plan.h.
func TestWireConstantsMatchC(t *testing.T) {
	h, err := os.ReadFile("../nsenter/c/plan.h")
	if err != nil {
		t.Fatal(err)
	}
	src := string(h)
	start := strings.Index(src, "OP_SYSCALL = 1,")
	end := strings.Index(src[start:], "};")
	// Each enumerator is its predecessor + 1 unless it says "= N".
	var cOps []string
	cVals := map[string]int{}
	next := 0
	for _, m := range regexp.MustCompile(`(OP_[A-Z_]+)(?:\s*=\s*(\d+))?`).FindAllStringSubmatch(src[start:start+end], -1) {
		if m[2] != "" {
			next, _ = strconv.Atoi(m[2])
		}
		cOps = append(cOps, m[1])
		cVals[m[1]] = next
		next++
	}
	goOps := []string{"OP_SYSCALL", "OP_LOOKUP", "OP_OPEN_DIR", "OP_OPEN_FILE", "OP_CHECK_REAL", "OP_REMOUNT",
		"OP_OPEN_NULL", "OP_MASK", "OP_READONLY", "OP_SYMLINK", "OP_MKNOD", "OP_WRITE_FILE", "OP_SEND", "OP_WAIT",
		"OP_OPENPTY", "OP_SEND_FD", "OP_USE_CONSOLE", "OP_PIVOT", "OP_MOVE_CHROOT", "OP_CHDIR_CHECK", "OP_BOUNDING",
		"OP_CAPSET", "OP_AMBIENT", "OP_SETUSER", "OP_SECCOMP", "OP_LOOKPATH", "OP_FIFO_WAIT", "OP_CLOEXEC_FROM", "OP_EXEC", "OP_OPEN_ATTR",
		"OP_HOOK"}
	goVals := []int{opSyscall, opLookup, opOpenDir, opOpenFile, opCheckReal, opRemount, opOpenNull, opMask, opReadonly,
		opSymlink, opMknod, opWriteFile, opSend, opWait, opOpenpty, opSendFd, opUseConsole, opPivot, opMoveChroot,
		opChdirCheck, opBounding, opCapset, opAmbient, opSetuser, opSeccomp, opLookpath, opFifoWait, opCloexecFrom, opExec, opOpenAttr,
		opHook}
	if strings.Join(cOps, " ") != strings.Join(goOps, " ") {
		t.Fatalf("plan.h operations:\n%v\nGo's:\n%v", cOps, goOps)
	}
	for i, v := range goVals {
		if c := cVals[goOps[i]]; v != c {
			t.Errorf("%s = %d in Go, %d in plan.h", goOps[i], v, c)
		}
	}
	for name, v := range map[string]int{"PK_IMM": kImm, "PK_STR": kStr, "PK_REG": kReg, "PK_FDNAME": kFdName,
		"PF_TRACE": fTrace, "PF_OK_EEXIST": fOkEexist, "PF_OK_EPERM": fOkEperm,
		"OP_SKIP_UNLESS": opSkipUnless, "OP_COPY_TREE": opCopyTree, "PF_OK_ENOENT": fOkEnoent, "PF_LATE": fLate, "PLAN_TRACE": flagTrace,
		"PLAN_HDR_SIZE": hdrSize, "PLAN_OP_SIZE": opSize, "PLAN_STEP_SIZE": stepSize,
		"PLAN_OP_KIND_OFFSET": opKindOffset, "PLAN_OP_ARG_OFFSET": opArgOffset} {
		m := regexp.MustCompile(`\b` + name + `\s*=?\s*(\d+)`).FindStringSubmatch(src)
		if m == nil {
			t.Errorf("%s not found in plan.h", name)
			continue
		}
		if c, _ := strconv.Atoi(m[1]); c != v {
			t.Errorf("%s = %d in Go, %d in plan.h", name, v, c)
		}
	}
	if !strings.Contains(src, `#define PLAN_MAGIC "`+magic+`"`) {
		t.Errorf("plan.h's PLAN_MAGIC is not %q", magic)
	}
}

func defaultConfig(t testing.TB) Config {
	t.Helper()
	s := spec.Default()
	s.Root.Path = t.TempDir()
	s.Process.Args = []string{"/bin/true"}
	s.Process.Terminal = false
	return Config{Spec: s, ID: "x", Bundle: t.TempDir(), Rootfs: s.Root.Path, FifoFd: 4, ConsoleFd: -1,
		NetNS: true, CgroupNS: true, TimerSlack: -1}
}

// TestPlanLayout: the header and sections add up, every op's step exists.
func TestPlanLayout(t *testing.T) {
	c := defaultConfig(t)
	c.Trace = true
	p, err := compileHere(c)
	if err != nil {
		t.Fatal(err)
	}
	b := p.Bytes(0)
	le := binary.LittleEndian
	if string(b[:4]) != magic || le.Uint32(b[4:]) != flagTrace {
		t.Fatalf("header %q flags %d", b[:4], le.Uint32(b[4:]))
	}
	nops, nsteps, strlen, total := le.Uint32(b[8:]), le.Uint32(b[12:]), le.Uint32(b[16:]), le.Uint32(b[20:])
	if int(total) != len(b) || hdrSize+int(nops)*opSize+int(nsteps)*stepSize+int(strlen) != len(b) {
		t.Fatalf("sizes: %d ops, %d steps, %d string bytes, total %d, len %d", nops, nsteps, strlen, total, len(b))
	}
	for i, o := range p.ops {
		if o.step >= int32(len(p.steps)) {
			t.Errorf("op %d (code %d) names step %d of %d", i, o.code, o.step, len(p.steps))
		}
		for j, a := range o.args {
			if a.kind == kStr && a.v >= uint64(len(p.str)) {
				t.Errorf("op %d arg %d: string offset %d past %d", i, j, a.v, len(p.str))
			}
		}
	}
	if last := p.ops[len(p.ops)-1]; last.code != opExec {
		t.Errorf("the plan ends with op %d, not exec", last.code)
	}
}

// TestBadHooks: a hook init could not run fails Compile, naming it,
// before anything is built.
func TestBadHooks(t *testing.T) {
	for _, tc := range []struct {
		hook specs.Hook
		want string
	}{
		{specs.Hook{Path: "/bin/true", Timeout: ptrInt(0)}, "hook startContainer[0] /bin/true: timeout 0 must be positive"},
		{specs.Hook{Path: "true"}, `hook startContainer[0] true: path "true" is not absolute`},
	} {
		c := defaultConfig(t)
		c.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{tc.hook}}
		if _, err := compileHere(c); err == nil || err.Error() != tc.want {
			t.Errorf("Compile with hook %+v: %v, want %s", tc.hook, err, tc.want)
		}
	}
}

// TestMountCases: the mount-side cases the plan learned last compile
// (golden plans hold the whole plans, testdata/golden/hard-*),
// and what the runtime must have prepared for them is an error naming
// the mount when missing, never a silent fallback.
func TestMountCases(t *testing.T) {
	codes := func(p *Plan) map[uint16]int {
		n := map[uint16]int{}
		for _, o := range p.ops {
			n[o.code]++
		}
		return n
	}
	// No mount namespace: a chroot, no mount at all, and a warning.
	c := defaultConfig(t)
	c.Spec.Linux.Namespaces = slices.DeleteFunc(c.Spec.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.MountNamespace })
	p, err := compileHere(c)
	if err != nil {
		t.Fatal(err)
	}
	chroot, mounts := 0, 0
	for _, o := range p.ops {
		switch {
		case o.code == opSyscall && o.nr == unix.SYS_CHROOT:
			chroot++
		case o.code == opSyscall && o.nr == unix.SYS_MOUNT, o.code == opPivot, o.code == opMask, o.code == opMknod:
			mounts++
		}
	}
	if chroot != 1 || mounts != 0 || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "mounts are not made") {
		t.Errorf("no mount namespace: %d chroot, %d mounts, warnings %q; want one chroot, no mount and a warning", chroot, mounts, p.Warnings)
	}
	// sysfs in a user namespace: the fallback follows the mount.
	c = defaultConfig(t)
	c.UserNS, c.NetNS = true, false
	if p, err = compileHere(c); err != nil || codes(p)[opSkipUnless] != 1 {
		t.Errorf("sysfs in a user namespace: %v, want one skip-unless", err)
	}
	// tmpcopyup.
	c = defaultConfig(t)
	c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/etc", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup"}})
	if p, err = compileHere(c); err != nil || codes(p)[opCopyTree] != 1 {
		t.Errorf("tmpcopyup: %v, want one copy-tree", err)
	}
	// An idmapped mount the runtime did not prepare, a cgroup bind without
	// a source: errors that name the mount.
	for name, edit := range map[string]func(*Config){
		"idmap mount": func(c *Config) {
			c.Spec.Mounts = append(c.Spec.Mounts, specs.Mount{Destination: "/m", Type: "bind", Source: "/tmp", Options: []string{"rbind", "idmap"}})
		},
		"cgroup bind without a source": func(c *Config) { c.CgroupNS = false },
	} {
		c := defaultConfig(t)
		edit(&c)
		_, err := compileHere(c)
		var se *trace.StepError
		if !errors.As(err, &se) || se.Step != "mount" {
			t.Errorf("%s: Compile returned %v, want a mount step error", name, err)
		}
	}
}

func TestCanDefer(t *testing.T) {
	m := func(dest, typ string) specs.Mount { return specs.Mount{Destination: dest, Type: typ, Source: typ} }
	for _, tc := range []struct {
		mounts []specs.Mount
		want   bool
	}{
		{[]specs.Mount{m("/sys", "sysfs"), m("/sys/fs/cgroup", "cgroup")}, true},
		{[]specs.Mount{m("/sys/fs/cgroup", "cgroup"), m("/etc/hosts", "bind")}, true},
		{[]specs.Mount{m("/sys/fs/cgroup", "cgroup"), m("/sys/fs/cgroup/x", "tmpfs")}, false},
		{[]specs.Mount{m("/sys/fs/cgroup", "cgroup"), m("/sys", "sysfs")}, false},
		{[]specs.Mount{m("/sys/fs/cgroup", "cgroup"), m("/sys/fs/cgroup", "tmpfs")}, false},
	} {
		if got := canDefer(tc.mounts, indexOfCgroup(tc.mounts)); got != tc.want {
			t.Errorf("canDefer(%v) = %v, want %v", tc.mounts, got, tc.want)
		}
	}
}

func indexOfCgroup(ms []specs.Mount) int {
	for i := range ms {
		if ms[i].Type == "cgroup" {
			return i
		}
	}
	return -1
}

func TestRlimitsBeforePlan(t *testing.T) {
	rl := func(typ string, soft uint64) []specs.POSIXRlimit {
		return []specs.POSIXRlimit{{Type: typ, Soft: soft, Hard: soft}}
	}
	for _, tc := range []struct {
		rl   []specs.POSIXRlimit
		want bool
	}{
		{nil, true},
		{rl("RLIMIT_NOFILE", 1024), true},
		{rl("RLIMIT_NOFILE", 16), false},
		{rl("RLIMIT_AS", 1<<30), false},
		{rl("RLIMIT_NPROC", 10), true},
		{rl("RLIMIT_FSIZE", 0), false},
	} {
		if got := RlimitsBeforePlan(tc.rl); got != tc.want {
			t.Errorf("RlimitsBeforePlan(%v) = %v, want %v", tc.rl, got, tc.want)
		}
	}
}

// compileHere compiles c for this machine, as hako does.
func compileHere(c Config) (*Plan, error) {
	h, err := ProbeHost(c)
	if err != nil {
		return nil, err
	}
	return Compile(c, h)
}

func compileExecHere(c Config) (*Plan, error) {
	h, err := ProbeExecHost(c.Spec.Process)
	if err != nil {
		return nil, err
	}
	return CompileExec(c, h)
}
