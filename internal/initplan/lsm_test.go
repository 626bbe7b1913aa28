package initplan

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/lsm"
)

// str reads a NUL-terminated string of the plan's string table.
func (p *Plan) strAt(off uint64) string {
	b := p.str[off:]
	return string(b[:bytes.IndexByte(b, 0)])
}

// stepOf names op i's step as "name operands" ("" for none).
func (p *Plan) stepOf(i int) string {
	st := p.ops[i].step
	if st < 0 {
		return ""
	}
	return p.strAt(uint64(p.steps[st].name)) + " " + p.strAt(uint64(p.steps[st].operands))
}

// find returns the indexes of the ops whose step starts with prefix.
func (p *Plan) find(prefix string) []int {
	var out []int
	for i := range p.ops {
		if strings.HasPrefix(p.stepOf(i), prefix) {
			out = append(out, i)
		}
	}
	return out
}

func (p *Plan) first(t *testing.T, code uint16) int {
	t.Helper()
	for i, o := range p.ops {
		if o.code == code {
			return i
		}
	}
	t.Fatalf("no op %d in the plan", code)
	return -1
}

// afterSetup is what may come between the exec attribute write and execve:
// the handshakes, the fifo, close_range, a late seccomp filter. None of it
// is affected by a pending exec transition.
var afterSetup = map[uint16]bool{opSend: true, opWait: true, opFifoWait: true, opCloexecFrom: true, opSeccomp: true, opExec: true}

// TestAppArmorLastBeforeExec: a profile is requested for execve after every
// other set-up step (uid, capabilities, no_new_privs, chdir, the program
// lookup), through a file opened before the first mount; for exec, opened
// and written at the same late point.
func TestAppArmorLastBeforeExec(t *testing.T) {
	for _, exec := range []bool{false, true} {
		c := defaultConfig(t)
		c.Spec.Process.ApparmorProfile = "docker-default"
		c.Spec.Process.NoNewPrivileges = true
		c.Spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdirat"}, Action: specs.ActErrno}}}
		compile := compileHere
		if exec {
			compile = compileExecHere
		}
		p, err := compile(c)
		if err != nil {
			t.Fatal(err)
		}
		w := p.find("apparmor exec docker-default")
		if len(w) != 1 || p.ops[w[0]].code != opSyscall || p.ops[w[0]].nr != unix.SYS_WRITE {
			t.Fatalf("exec=%v: apparmor write ops %v", exec, w)
		}
		wr := p.ops[w[0]]
		if got := p.strAt(wr.args[1].v); got != "exec docker-default" || wr.args[2].v != uint64(len(got)) || wr.args[0] != reg(rAttrAppArmor) {
			t.Errorf("exec=%v: writes %q (%d bytes) to %v", exec, got, wr.args[2].v, wr.args[0])
		}
		open := p.first(t, opOpenAttr)
		if o := p.ops[open]; p.strAt(o.args[0].v) != "thread-self/attr/apparmor/exec" || p.strAt(o.args[1].v) != "thread-self/attr/exec" || o.out != rAttrAppArmor {
			t.Errorf("exec=%v: opens %q (fallback %q) into %d", exec, p.strAt(o.args[0].v), p.strAt(o.args[1].v), o.out)
		}
		if exec && open > w[0] {
			t.Errorf("exec: attribute opened at op %d, after its write at %d", open, w[0])
		}
		if !exec && (open > p.first(t, opOpenDir) || open > p.first(t, opPivot)) {
			t.Errorf("init: attribute opened at op %d, not before the mounts", open)
		}
		for _, code := range []uint16{opSetuser, opCapset, opChdirCheck, opLookpath} {
			if i := p.first(t, code); i > w[0] {
				t.Errorf("exec=%v: op %d at %d comes after the apparmor write at %d", exec, code, i, w[0])
			}
		}
		if nnp := p.find("prctl PR_SET_NO_NEW_PRIVS"); len(nnp) != 1 || nnp[0] > w[0] {
			t.Errorf("exec=%v: no_new_privs at %v, apparmor write at %d", exec, nnp, w[0])
		}
		for i := w[0] + 1; i < len(p.ops); i++ {
			o := p.ops[i]
			if o.code == opSyscall && o.nr == unix.SYS_CLOSE && o.args[0] == reg(rAttrAppArmor) {
				continue
			}
			if !afterSetup[o.code] {
				t.Errorf("exec=%v: op %d (code %d, %q) between the apparmor write and execve", exec, i, o.code, p.stepOf(i))
			}
		}
		if len(p.find("selinux")) != 0 {
			t.Errorf("exec=%v: selinux steps without a label", exec)
		}
	}
}

// TestSELinuxExecLabel: the label goes to attr/exec, with no fallback.
func TestSELinuxExecLabel(t *testing.T) {
	c := defaultConfig(t)
	c.Spec.Process.SelinuxLabel = "system_u:system_r:container_t:s0:c1,c2"
	p, err := compileHere(c)
	if err != nil {
		t.Fatal(err)
	}
	w := p.find("selinux exec system_u:system_r:container_t:s0:c1,c2")
	if len(w) != 1 || p.strAt(p.ops[w[0]].args[1].v) != c.Spec.Process.SelinuxLabel || p.ops[w[0]].args[0] != reg(rAttrSELinux) {
		t.Fatalf("selinux write ops %v", w)
	}
	o := p.ops[p.first(t, opOpenAttr)]
	if p.strAt(o.args[0].v) != "thread-self/attr/exec" || p.strAt(o.args[1].v) != "" || o.out != rAttrSELinux {
		t.Errorf("opens %q (fallback %q) into %d", p.strAt(o.args[0].v), p.strAt(o.args[1].v), o.out)
	}
}

// TestNoLSMNoCost: without a profile or label the plan has no LSM op at
// all (and compiling it looked nothing up on the host).
func TestNoLSMNoCost(t *testing.T) {
	p, err := compileHere(defaultConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range p.ops {
		if o.code == opOpenAttr || strings.HasPrefix(p.stepOf(i), "apparmor") || strings.HasPrefix(p.stepOf(i), "selinux") {
			t.Errorf("op %d (%d, %q) in a plan without a profile or label", i, o.code, p.stepOf(i))
		}
		for _, a := range o.args {
			if a.kind == kStr && strings.Contains(p.strAt(a.v), "context=") {
				t.Errorf("op %d: %q without linux.mountLabel", i, p.strAt(a.v))
			}
		}
	}
}

// TestLoopbackUp: a new network namespace gets lo up, once, early (before
// the mounts); a joined one, and exec, do not.
func TestLoopbackUp(t *testing.T) {
	c := defaultConfig(t)
	p, err := compileHere(c)
	if err != nil {
		t.Fatal(err)
	}
	up := p.find("link up lo")
	if len(up) != 2 {
		t.Fatalf("link up ops %v, want socket + ioctl", up)
	}
	sock, ioctl := p.ops[up[0]], p.ops[up[1]]
	if sock.nr != unix.SYS_SOCKET || sock.args[0].v != unix.AF_INET || sock.out != rT1 {
		t.Errorf("socket op %+v", sock)
	}
	if ioctl.nr != unix.SYS_IOCTL || ioctl.args[0] != reg(rT1) || ioctl.args[1].v != unix.SIOCSIFFLAGS || ioctl.flags&fTrace == 0 {
		t.Errorf("ioctl op %+v", ioctl)
	}
	ifr := p.str[ioctl.args[2].v : ioctl.args[2].v+sizeofIfreq]
	if string(ifr[:3]) != "lo\x00" || binary.LittleEndian.Uint16(ifr[unix.IFNAMSIZ:]) != unix.IFF_UP {
		t.Errorf("ifreq % x", ifr)
	}
	if up[1] > p.first(t, opOpenDir) {
		t.Errorf("lo up at op %d, after the mounts began", up[1])
	}
	for i, ns := range c.Spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			c.Spec.Linux.Namespaces[i].Path = "/var/run/netns/x"
		}
	}
	if p, err = compileHere(c); err != nil {
		t.Fatal(err)
	}
	if up := p.find("link up"); len(up) != 0 {
		t.Errorf("joined network namespace: link up ops %v", up)
	}
	if p, err = compileExecHere(defaultConfig(t)); err != nil {
		t.Fatal(err)
	}
	if up := p.find("link up"); len(up) != 0 {
		t.Errorf("exec: link up ops %v", up)
	}
}

// TestMountLabel: context= on the fresh filesystems runc labels (tmpfs,
// devpts, masked directories), not on proc, sysfs, mqueue or cgroup.
func TestMountLabel(t *testing.T) {
	c := defaultConfig(t)
	const label = "system_u:object_r:container_file_t:s0:c1,c2"
	c.Spec.Linux.MountLabel = label
	p, err := compileHere(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `context="` + label + `"`
	labelled := map[string]bool{}
	for i, o := range p.ops {
		if o.code != opSyscall || o.nr != unix.SYS_MOUNT || o.args[2].kind != kStr {
			continue
		}
		typ, data := p.strAt(o.args[2].v), p.strAt(o.args[4].v)
		if typ == "" {
			continue // bind, remount, propagation
		}
		has := strings.Contains(data, want)
		switch typ {
		case "tmpfs", "devpts":
			if !has || !strings.Contains(p.stepOf(i), want) {
				t.Errorf("%s mount (%q): data %q", typ, p.stepOf(i), data)
			}
		default:
			if has {
				t.Errorf("%s mount labelled: %q", typ, data)
			}
		}
		labelled[typ] = labelled[typ] || has
	}
	if !labelled["tmpfs"] || !labelled["devpts"] {
		t.Errorf("labelled: %v", labelled)
	}
	masks := 0
	for _, o := range p.ops {
		if o.code == opMask {
			masks++
			if got := p.strAt(o.args[2].v); got != want {
				t.Errorf("mask data %q, want %q", got, want)
			}
		}
	}
	if masks == 0 {
		t.Error("no masked paths in the default spec")
	}
	if x := p.find("setxattr"); len(x) != 0 && !lsm.SELinuxEnabled() {
		t.Errorf("mqueue labelled by setxattr on a host without SELinux: %v", x)
	}
}

// TestLateOpsReportOnStderr: everything after ready is marked, nothing
// before it.
func TestLateOpsReportOnStderr(t *testing.T) {
	p, err := compileHere(defaultConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	ready := -1
	for i, o := range p.ops {
		if o.code == opSend && strings.Contains(p.strAt(o.args[0].v), `"ready"`) {
			ready = i
		}
	}
	if ready < 0 {
		t.Fatal("no ready message")
	}
	for i, o := range p.ops {
		if late := o.flags&fLate != 0; late != (i > ready) {
			t.Errorf("op %d (code %d, %q): late=%v, ready is op %d", i, o.code, p.stepOf(i), late, ready)
		}
	}
}
