package initplan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/caps"
	"hako/internal/hooks"
	"hako/internal/lsm"
	"hako/internal/namespaces"
	"hako/internal/seccomp"
	"hako/internal/spec"
	"hako/internal/syncproto"
	"hako/internal/trace"
)

// Config is what the plan is compiled from: the spec and where hako put
// things for init (fd numbers as init sees them; -1 for none).
type Config struct {
	Spec        *specs.Spec
	ID          string
	Bundle      string
	Rootfs      string
	NoPivot     bool
	PreserveFDs int
	Trace       bool
	// CgroupSources maps each host cgroup hierarchy's mount point to the
	// container's cgroup directory in it: without a cgroup namespace, the
	// cgroup mount binds these (a hierarchy missing fails the compile,
	// naming the mount).
	CgroupSources map[string]string
	// TimerSlack is the timer slack (ns) to give the program: hako's
	// original one (its own threads run with 4 ms); -1 leaves it.
	TimerSlack int64
	// JoinByPid: init asks the parent to move it into its cgroup first
	// (cgroup v1, where it cannot be cloned into it).
	JoinByPid bool
	// JoinWhenPrimed: the parent moves init into its cgroup without waiting to
	// be asked, as soon as init says it is primed (syncproto.Primed, the
	// plan's first operation): its scratch memory is touched and the plan
	// read, so none of that is charged to the container.
	JoinWhenPrimed bool
	UserNS         bool
	NetNS          bool
	CgroupNS       bool
	Rootless       bool
	FifoFd         int
	ConsoleFd      int
	// RlimitsBeforePlan: the parent applies process.rlimits before sending the
	// plan (see RlimitsBeforePlan), so init need not stop for them.
	RlimitsBeforePlan bool
	// ListenerFd is the socket connected to linux.seccomp.listenerPath,
	// as init sees it (0: none; the filter's listener fd is sent there).
	ListenerFd int
	// MountFds are the idmapped mounts the runtime made before clone
	// (IDMapped): the index of the mount in Spec.Mounts -> the fd of the
	// detached mount as init sees it, which init moves onto the target.
	MountFds map[int]int
}

// RlimitsBeforePlan reports whether the parent may apply rlimits to init right
// after clone instead of just before the uid change: when none of them can
// starve the executor's own set-up (it opens a few dozen fds, allocates a
// few pages and forks nothing). Then init skips the rlimits round trip.
func RlimitsBeforePlan(rl []specs.POSIXRlimit) bool {
	for _, r := range rl {
		switch r.Type {
		case "RLIMIT_NOFILE":
			if r.Soft < 256 {
				return false
			}
		case "RLIMIT_NPROC", "RLIMIT_CORE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_MSGQUEUE",
			"RLIMIT_SIGPENDING", "RLIMIT_LOCKS", "RLIMIT_MEMLOCK":
		default:
			return false
		}
	}
	return true
}

// Plan is a compiled init: what plan.c executes.
type Plan struct {
	ops    []op
	steps  []step
	str    []byte
	strs   map[string]uint32
	trace  bool
	joined bool
	// cgroupAfterPivot: cgroup mounts made after pivot_root (afterPivotOK).
	cgroupAfterPivot []*specs.Mount
	exec             bool // CompileExec
	// noConsole: no pty was made (no mount namespace), so none is used.
	noConsole bool
	host      Host
	// late are the strings that depend on init's pid (see lateState).
	late []func(pid int) []byte
	// Warnings are things not applied as asked (printed by the caller).
	Warnings []string
}

// Registers (fds held by the executor).
const (
	rRoot = iota
	rFdDir
	rNull
	rT1
	rT2
	rDir
	rPtmx
	rPts // set by opOpenpty together with rPtmx
	rAttrAppArmor
	rAttrSELinux
	rListener // the seccomp filter's listener fd (notify)
)

// Registers of the mount-side operations (issue 15), numbered apart from
// those above so that registers added elsewhere meanwhile cannot collide.
const (
	rStatus  = 40 + iota // 0 or -EPERM from an fOkEperm operation
	rCopySrc             // the directory under a tmpcopyup mount
)

// --- emission ----------------------------------------------------------------

func (p *Plan) s(v string) uint64 {
	if off, ok := p.strs[v]; ok {
		return uint64(off)
	}
	off := uint32(len(p.str))
	p.str = append(append(p.str, v...), 0)
	p.strs[v] = off
	return uint64(off)
}

func (p *Plan) blob(b []byte) uint64 {
	off := uint32(len(p.str))
	p.str = append(append(p.str, b...), 0)
	return uint64(off)
}

func (p *Plan) step(name, operands string) int32 {
	p.steps = append(p.steps, step{name: uint32(p.s(name)), operands: uint32(p.s(operands))})
	return int32(len(p.steps) - 1)
}

func imm(v uint64) arg            { return arg{kImm, v} }
func reg(r int) arg               { return arg{kReg, uint64(r)} }
func fdname(r int) arg            { return arg{kFdName, uint64(r)} }
func (p *Plan) str_(v string) arg { return arg{kStr, p.s(v)} }

func (p *Plan) emit(code uint16, flags uint16, st int32, out int, args ...arg) {
	o := op{code: code, flags: flags, step: st, out: int32(out)}
	copy(o.args[:], args)
	p.ops = append(p.ops, o)
}

func (p *Plan) sys(nr uintptr, flags uint16, st int32, out int, args ...arg) {
	o := op{code: opSyscall, flags: flags, step: st, out: int32(out), nr: int32(nr)}
	copy(o.args[:], args)
	p.ops = append(p.ops, o)
}

// traced emits a step that shows in --trace.
func (p *Plan) traced(name, operands string) int32 { return p.step(name, operands) }

func (p *Plan) send(t syncproto.Type) {
	line := fmt.Sprintf(`{"type":%q}`, t)
	p.emit(opSend, 0, -1, -1, p.str_(line), imm(uint64(len(line))))
}

func (p *Plan) wait(what string) {
	p.emit(opWait, 0, p.step("sync", "wait for "+what), -1)
}

// --- compile -----------------------------------------------------------------

// Compile turns a container's set-up into a plan: every decision about
// what init does, in the order it does it.
func Compile(c Config, h Host) (*Plan, error) {
	s := c.Spec
	if s.Process == nil {
		return nil, errors.New("config has no process")
	}
	p := &Plan{strs: map[string]uint32{}, trace: c.Trace, host: h}
	capset, filter, err := p.prepare(c)
	if err != nil {
		return nil, err
	}
	if err := checkHooks(s); err != nil {
		return nil, err
	}
	if c.JoinWhenPrimed {
		p.send(syncproto.Primed)
	}
	p.timerSlack(c)
	if err := p.early(c); err != nil {
		return nil, err
	}
	if hasNS(s, specs.MountNamespace) {
		err = p.rootfs(c)
	} else {
		p.chrootOnly(c)
	}
	if err != nil {
		return nil, err
	}
	p.process(c, capset, filter)
	return p, nil
}

func hasNS(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	return namespaces.Contains(s.Linux.Namespaces, t)
}

func hasNewNS(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	return namespaces.IsNew(s.Linux.Namespaces, t)
}

// early: time namespace, oom_score_adj, hostname, sysctls (the cgroup
// comes later, see joinCgroup).
func (p *Plan) early(c Config) error {
	s := c.Spec
	if hasNewNS(s, specs.TimeNamespace) {
		p.sys(unix.SYS_UNSHARE, fTrace, p.traced("unshare", "CLONE_NEWTIME"), -1, imm(unix.CLONE_NEWTIME))
		var b strings.Builder
		for _, clock := range sortedKeys(s.Linux.TimeOffsets) {
			off := s.Linux.TimeOffsets[clock]
			fmt.Fprintf(&b, "%s %d %d\n", clock, off.Secs, off.Nanosecs)
		}
		if b.Len() > 0 {
			p.writeFile("/proc/self/timens_offsets", b.String(), "/proc/self/timens_offsets = "+strings.TrimSpace(b.String()))
		}
	}
	if s.Process.OOMScoreAdj != nil {
		v := fmt.Sprint(*s.Process.OOMScoreAdj)
		p.writeFile("/proc/self/oom_score_adj", v, "/proc/self/oom_score_adj = "+v)
	}
	if s.Hostname != "" {
		p.sys(unix.SYS_SETHOSTNAME, fTrace, p.traced("sethostname", s.Hostname), -1, p.str_(s.Hostname), imm(uint64(len(s.Hostname))))
	}
	if s.Domainname != "" {
		p.sys(unix.SYS_SETDOMAINNAME, fTrace, p.traced("setdomainname", s.Domainname), -1, p.str_(s.Domainname), imm(uint64(len(s.Domainname))))
	}
	if hasNewNS(s, specs.NetworkNamespace) {
		p.loopbackUp()
	}
	// The exec attribute files are opened now, through the host's /proc,
	// and written last (see lsmExec): nothing the container's rootfs holds
	// can redirect the write.
	p.openExecAttrs(s.Process)
	for _, k := range sortedKeys(s.Linux.Sysctl) {
		v := s.Linux.Sysctl[k]
		st := p.traced("sysctl", k+" = "+v)
		path := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		p.emit(opWriteFile, fTrace, st, -1, p.str_(path), p.str_(v), imm(uint64(len(v))))
	}
	return nil
}

// loopbackUp brings lo up in the container's new network namespace, as
// runc and crun do (the kernel gives it 127.0.0.1 and ::1 once it is up):
// one socket in that namespace and one SIOCSIFFLAGS. Not for a namespace
// joined by path, which is someone else's to configure.
func (p *Plan) loopbackUp() {
	st := p.traced("link up", "lo (SIOCSIFFLAGS IFF_UP)")
	p.sys(unix.SYS_SOCKET, 0, st, rT1, imm(unix.AF_INET), imm(unix.SOCK_DGRAM|unix.SOCK_CLOEXEC), imm(0))
	p.sys(unix.SYS_IOCTL, fTrace, st, -1, reg(rT1), imm(unix.SIOCSIFFLAGS), arg{kStr, p.blob(loopbackUpIfreq())})
	p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rT1))
}

// loopbackUpIfreq is the struct ifreq SIOCSIFFLAGS takes to bring lo up:
// the name, then the flags (only IFF_UP: the kernel keeps the flags a
// caller cannot change, such as IFF_LOOPBACK, and lo has no others yet).
func loopbackUpIfreq() []byte {
	b := make([]byte, sizeofIfreq)
	copy(b, "lo")
	binary.LittleEndian.PutUint16(b[unix.IFNAMSIZ:], unix.IFF_UP)
	return b
}

// sizeofIfreq is sizeof(struct ifreq) on 64-bit Linux: a 16-byte name and
// a 24-byte union.
const sizeofIfreq = 40

// lsmModules are the modules whose exec attribute a process may set, in
// the order they are written.
var lsmModules = []lsm.Module{lsm.AppArmor, lsm.SELinux}

var attrReg = map[lsm.Module]int{lsm.AppArmor: rAttrAppArmor, lsm.SELinux: rAttrSELinux}

// openExecAttrs opens the exec attribute file of each module proc asks for
// (nothing, not even a check of the host, when it asks for none).
func (p *Plan) openExecAttrs(proc *specs.Process) {
	for _, m := range lsmModules {
		paths, _, ok := lsm.ExecAttr(m, proc)
		if !ok {
			continue
		}
		fallback := ""
		if len(paths) > 1 {
			fallback = paths[1]
		}
		st := p.traced(m.Step(), "open /proc/"+paths[0])
		p.emit(opOpenAttr, fTrace, st, attrReg[m], p.str_(paths[0]), p.str_(fallback))
	}
}

// lsmExec requests the profile (AppArmor) and label (SELinux) for the
// program's execve: the last step of the process's set-up, after the uid,
// capabilities, no_new_privs and the program lookup. The change applies
// only at execve, so it hinders none of init's own steps; it is made
// before "ready" rather than right before execve so that a profile the
// kernel does not know (ENOENT at this write: AppArmor looks it up here)
// fails `create`, as in runc, and so that a seccomp filter loaded late
// cannot deny the write. exec opens the files here (it has been in the
// container's mount namespace since it started; the procfs is checked),
// init opened them early through the host's /proc.
func (p *Plan) lsmExec(proc *specs.Process) {
	if p.exec {
		p.openExecAttrs(proc)
	}
	for _, m := range lsmModules {
		_, data, ok := lsm.ExecAttr(m, proc)
		if !ok {
			continue
		}
		r := attrReg[m]
		p.sys(unix.SYS_WRITE, fTrace, p.traced(m.Step(), lsm.Operands(m, proc)), -1, reg(r), p.str_(data), imm(uint64(len(data))))
		p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(r))
	}
}

// joinCgroup has the parent move init into its cgroup (v1), then unshares
// the cgroup namespace, rooted there. It comes as late as it can: before the
// first cgroup mount, else before the hooks and pivot_root. Until then the
// parent creates the cgroup in parallel with init's mounts, and what init
// allocates for them is not charged to the container.
func (p *Plan) joinCgroup(c Config) {
	if p.joined {
		return
	}
	p.joined = true
	if c.JoinByPid {
		p.send(syncproto.Cgroup)
		p.wait("cgroup-ok")
	}
	if hasNewNS(c.Spec, specs.CgroupNamespace) {
		p.sys(unix.SYS_UNSHARE, fTrace, p.traced("unshare", "CLONE_NEWCGROUP"), -1, imm(unix.CLONE_NEWCGROUP))
	}
}

// timerSlack gives init (and so the program, which inherits it across
// execve) hako's original timer slack back.
func (p *Plan) timerSlack(c Config) {
	if c.TimerSlack >= 0 {
		p.sys(unix.SYS_PRCTL, 0, -1, -1, imm(unix.PR_SET_TIMERSLACK), imm(uint64(c.TimerSlack)))
	}
}

func (p *Plan) writeFile(path, data, operands string) {
	p.emit(opWriteFile, fTrace, p.traced("write", operands), -1, p.str_(path), p.str_(data), imm(uint64(len(data))))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// --- the root filesystem: mounts, /dev, pivot_root, masks --------------------

const rootOpen = unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC

func (p *Plan) rootfs(c Config) error {
	s := c.Spec
	open := p.step("open", "rootfs "+c.Rootfs)
	p.sys(unix.SYS_OPENAT, 0, open, rRoot, imm(uint64(atFdcwd)), p.str_(c.Rootfs), imm(rootOpen))
	p.sys(unix.SYS_OPENAT, 0, p.step("open", "/proc/self/fd"), rFdDir, imm(uint64(atFdcwd)), p.str_("/proc/self/fd"), imm(rootOpen))
	p.sys(unix.SYS_FCHDIR, 0, -1, -1, reg(rFdDir))
	// The propagation of / (runc's prepareRoot).
	flag := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if pr := s.Linux.RootfsPropagation; pr != "" {
		f, ok := propagationFlag(pr)
		if !ok {
			return fmt.Errorf("linux.rootfsPropagation: unknown value %q", pr)
		}
		if f&unix.MS_PRIVATE != 0 {
			flag = unix.MS_PRIVATE | unix.MS_REC
		}
	}
	p.mount(p.traced("mount", "/ propagation "+propName(flag)), p.str_(""), p.str_("/"), "", flag, "")
	p.mount(p.traced("mount", "bind "+c.Rootfs+" on itself (rbind)"), p.str_(c.Rootfs), p.str_(c.Rootfs), "", unix.MS_BIND|unix.MS_REC, "")
	p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rRoot))
	p.sys(unix.SYS_OPENAT, 0, open, rRoot, imm(uint64(atFdcwd)), p.str_(c.Rootfs), imm(rootOpen))
	// runc also makes the rootfs's parent mount private if it is shared
	// (pivot_root refuses a shared parent). After the recursive
	// rslave/rprivate of / above no mount in init's namespace is shared, so
	// the plan has no such step (and reads no mountinfo for it).
	devMounted := false
	var deferred []*specs.Mount
	for i := range s.Mounts {
		m := &s.Mounts[i]
		if canDefer(s.Mounts, i) {
			deferred = append(deferred, m)
			continue
		}
		if err := p.specMount(c, m); err != nil {
			return err
		}
		if filepath.Clean(m.Destination) == "/dev" && !IsBind(m) {
			devMounted = true
		}
	}
	if devMounted {
		if err := p.devices(c, devNodes(s.Linux.Devices)); err != nil {
			return err
		}
		for _, l := range devLinks() {
			p.symlink(l[0], l[1])
		}
	}
	if err := p.devices(c, s.Linux.Devices); err != nil {
		return err
	}
	if s.Process.Terminal {
		if c.ConsoleFd < 0 {
			return errors.New("process.terminal is true but no console socket was given (use --console-socket)")
		}
		p.emit(opOpenpty, fTrace, p.traced("openpty", "/dev/pts/ptmx"), rPtmx, reg(rRoot), reg(rFdDir), imm(0))
		t := p.step("mount", "console on /dev/console")
		p.emit(opOpenFile, 0, t, rT1, reg(rRoot), p.str_("/dev/console"))
		p.mount(p.traced("mount", "bind pty on /dev/console"), fdname(rPts), fdname(rT1), "", unix.MS_BIND, "")
		p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rT1))
		payload := "/dev/ptmx"
		p.emit(opSendFd, fTrace, p.traced("send console", "pty master over console socket"), -1,
			imm(uint64(c.ConsoleFd)), reg(rPtmx), p.str_(payload), imm(uint64(len(payload))))
		p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rPtmx))
		p.sys(unix.SYS_CLOSE, 0, -1, -1, imm(uint64(c.ConsoleFd)))
	}
	runtimeHooks := len(hooks.Of(s, "prestart")) > 0 || len(hooks.Of(s, "createRuntime")) > 0
	containerHooks := len(hooks.Of(s, "createContainer")) > 0
	if !runtimeHooks && !containerHooks && !c.NoPivot && afterPivotOK(c, deferred) {
		// Nothing between here and pivot_root needs the cgroup: join, the
		// cgroup namespace and the cgroup mounts come after the masks,
		// which leaves the parent ~0.5 ms more to have the cgroup ready
		// (measured: init otherwise waited ~0.5 ms for it on a warm run).
		p.cgroupAfterPivot = deferred
	} else {
		for _, m := range deferred {
			if err := p.specMount(c, m); err != nil {
				return err
			}
		}
		p.joinCgroup(c)
	}
	if runtimeHooks {
		p.send(syncproto.Hooks)
		p.wait("hooks-done")
	}
	// After the mounts, before pivot_root (runtime-spec; runc's
	// prepareRootfs): the container's namespaces, the host's root.
	p.hooks(c, "createContainer")
	if c.NoPivot {
		p.emit(opMoveChroot, fTrace, p.traced("chroot", "MS_MOVE "+c.Rootfs+" to / + chroot (--no-pivot)"), -1, reg(rRoot))
	} else {
		p.emit(opPivot, fTrace, p.traced("pivot_root", c.Rootfs), -1, reg(rRoot))
	}
	return p.finish(c)
}

// chrootOnly is the set-up without a mount namespace (runc's too): the
// container shares the runtime's mounts, so
// init mounts nothing, which would change the host's, and only chroots
// into the rootfs. Nothing is masked or made read-only, and no pty is made
// (there is no devpts of the container's to make it in). The host's
// /proc/self/fd is opened first, for the exec.fifo.
func (p *Plan) chrootOnly(c Config) {
	s := c.Spec
	if n := len(s.Mounts); n > 0 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("no mount namespace: the config's %d mounts are not made (they would change the host's mounts)", n))
	}
	if s.Process.Terminal {
		p.noConsole = true
		p.Warnings = append(p.Warnings, "no mount namespace: process.terminal is not set up (no devpts of the container's to open a pty in)")
	}
	p.sys(unix.SYS_OPENAT, 0, p.step("open", "/proc/self/fd"), rFdDir, imm(uint64(atFdcwd)), p.str_("/proc/self/fd"), imm(rootOpen))
	p.joinCgroup(c)
	if len(hooks.Of(s, "prestart")) > 0 || len(hooks.Of(s, "createRuntime")) > 0 {
		p.send(syncproto.Hooks)
		p.wait("hooks-done")
	}
	p.hooks(c, "createContainer") // before the chroot, as with pivot_root
	st := p.traced("chroot", c.Rootfs+" (no mount namespace)")
	p.sys(unix.SYS_CHROOT, fTrace, st, -1, p.str_(c.Rootfs))
	p.sys(unix.SYS_CHDIR, 0, st, -1, p.str_("/"))
}

// afterPivotOK reports whether the cgroup mounts (already known to be
// independent of every other mount, see canDefer) may be made after
// pivot_root and the masks: only fresh cgroup filesystems (a cgroup
// namespace; a bind would name a host path), and no masked or read-only
// path inside them.
func afterPivotOK(c Config, deferred []*specs.Mount) bool {
	if !c.CgroupNS {
		return false
	}
	l := c.Spec.Linux
	for _, m := range deferred {
		d := filepath.Clean(m.Destination)
		for _, p := range append(append([]string(nil), l.MaskedPaths...), l.ReadonlyPaths...) {
			if p = filepath.Clean(p); p == d || strings.HasPrefix(p, d+"/") {
				return false
			}
		}
	}
	return true
}

// canDefer reports whether mounts[i], a cgroup filesystem, may be mounted
// after everything else: no other mount lies inside it or holds it, so the
// order cannot matter. Mounting it last puts init's cgroup join (which must
// precede it) as late as possible, leaving the parent the most time to
// create the cgroup in parallel.
func canDefer(mounts []specs.Mount, i int) bool {
	m := &mounts[i]
	if (m.Type != "cgroup" && m.Type != "cgroup2") || IsBind(m) {
		return false
	}
	d := filepath.Clean(m.Destination)
	for j := range mounts {
		if j == i {
			continue
		}
		o := filepath.Clean(mounts[j].Destination)
		if j > i && (o == d || strings.HasPrefix(o, d+"/") || strings.HasPrefix(d, o+"/") || o == "/") {
			return false
		}
	}
	return true
}

const atFdcwd = ^uint64(99) // AT_FDCWD (-100) as the VM's 64-bit argument

func (p *Plan) mount(st int32, src, target arg, fstype string, flags uintptr, data string) {
	p.sys(unix.SYS_MOUNT, fTrace, st, -1, src, target, p.str_(fstype), imm(uint64(flags)), p.str_(data))
}

// specMount mounts one entry of config.json's mounts.
func (p *Plan) specMount(c Config, m *specs.Mount) error {
	desc := MountDesc(m)
	if !filepath.IsAbs(m.Destination) {
		return &trace.StepError{Step: "mount", Operands: desc, Err: fmt.Errorf("destination %q is not absolute", m.Destination)}
	}
	o := spec.ParseMountOptions(m.Options)
	switch {
	case IDMapped(m):
		return p.idmapMount(c, m, desc)
	case IsBind(m):
		return p.bindMount(c, m, desc)
	case m.Type == "cgroup" || m.Type == "cgroup2":
		return p.mountCgroup(c, m, desc)
	}
	label := c.Spec.Linux.MountLabel
	data := mountData(m, o.DataString(), label)
	if data != o.DataString() {
		desc = labelDesc(desc, label)
	}
	st := p.traced("mount", desc)
	p.target(c, m, true, st, rT1)
	flags := o.Flags &^ (unix.MS_BIND | unix.MS_REC)
	switch {
	case m.Type == "tmpfs" && o.CopyUp:
		p.copyUp(m, st, flags, data, desc)
	case m.Type == "sysfs" && c.UserNS:
		if err := p.sysfsOrBind(c, m, st, flags, data, desc); err != nil {
			return err
		}
	default:
		p.mount(st, p.str_(m.Source), fdname(rT1), m.Type, flags, data)
		p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rT1))
	}
	if xattrLabel(m, label) && p.host.SELinux {
		xst := p.traced("setxattr", m.Destination+" "+selinuxXattr+"="+label+" (linux.mountLabel)")
		p.emit(opLookup, 0, xst, rT2, reg(rRoot), p.str_(m.Destination), imm(0))
		p.sys(unix.SYS_SETXATTR, fTrace, xst, -1, fdname(rT2), p.str_(selinuxXattr), p.str_(label), imm(uint64(len(label))), imm(0))
		p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rT2))
	}
	p.propagation(m, o)
	return nil
}

// copyUp mounts a tmpfs with tmpcopyup (runc's extension, which podman
// asks for on /run, /tmp and /var/log of a systemd container): the
// directory's content, still reachable through an fd taken before the
// mount, is copied into the new tmpfs by opCopyTree, as runc copies it.
// The tmpfs is mounted writable for the copy and made read-only after it
// when asked (runc's order). The target is in rT1.
func (p *Plan) copyUp(m *specs.Mount, st int32, flags uintptr, data, desc string) {
	p.sys(unix.SYS_OPENAT, 0, st, rCopySrc, reg(rT1), p.str_("."), imm(unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC))
	p.mount(st, p.str_(m.Source), fdname(rT1), m.Type, flags&^unix.MS_RDONLY, data)
	p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rT1))
	cst := p.traced("tmpcopyup", m.Destination+" (copy its content into the new tmpfs)")
	p.emit(opLookup, 0, cst, rT2, reg(rRoot), p.str_(m.Destination), imm(unix.O_DIRECTORY))
	p.emit(opCopyTree, fTrace, cst, -1, reg(rCopySrc), reg(rT2))
	p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rCopySrc))
	if flags&unix.MS_RDONLY != 0 {
		p.emit(opRemount, fTrace, p.traced("remount", desc+" read-only after the copy"), -1, fdname(rT2), imm(uint64(flags)))
	}
	p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rT2))
}

// sysfsOrBind mounts sysfs in a user namespace, where the kernel allows
// it only with a network namespace the user namespace owns: on EPERM the
// plan binds the host's /sys (rbind, then the mount's flags) instead, as
// runc does. The target is in rT1.
func (p *Plan) sysfsOrBind(c Config, m *specs.Mount, st int32, flags uintptr, data, desc string) error {
	p.sys(unix.SYS_MOUNT, fTrace|fOkEperm, st, rStatus, p.str_(m.Source), fdname(rT1), p.str_(m.Type), imm(uint64(flags)), p.str_(data))
	p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rT1))
	skip := len(p.ops)
	p.emit(opSkipUnless, 0, -1, -1, reg(rStatus), imm(uint64(eperm)), imm(0))
	bind := &specs.Mount{Destination: m.Destination, Type: "bind", Source: "/sys", Options: append([]string{"rbind"}, m.Options...)}
	if err := p.bindMount(c, bind, desc+" as rbind /sys"); err != nil {
		return err
	}
	p.ops[skip].args[2] = imm(uint64(len(p.ops) - skip - 1))
	return nil
}

// eperm is -EPERM as the executor stores it in a register.
var eperm = -int64(unix.EPERM)

// target resolves (creating it) the mount point into register r; procfs
// and sysfs only on a real directory at exactly that path.
func (p *Plan) target(c Config, m *specs.Mount, dir bool, st int32, r int) {
	if dir {
		p.emit(opOpenDir, 0, st, r, reg(rRoot), p.str_(m.Destination), imm(0o755))
	} else {
		p.emit(opOpenFile, 0, st, r, reg(rRoot), p.str_(m.Destination))
	}
	if m.Type == "proc" || m.Type == "sysfs" {
		want := filepath.Join(c.Rootfs, filepath.Clean(m.Destination))
		p.emit(opCheckReal, 0, st, -1, reg(r), p.str_(want), p.str_(filepath.Clean(m.Destination)), p.str_(m.Type), p.str_(c.Rootfs))
	}
}

func (p *Plan) bindMount(c Config, m *specs.Mount, desc string) error {
	src, fi, err := p.bindSourceOf(c, m, desc)
	if err != nil {
		return err
	}
	st := p.traced("mount", desc)
	p.target(c, m, fi.Dir, st, rT1)
	o := spec.ParseMountOptions(m.Options)
	p.mount(st, p.str_(src), fdname(rT1), "", unix.MS_BIND|o.Flags&unix.MS_REC, "")
	p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rT1))
	p.bindFlags(m, o, desc)
	return nil
}

// bindSourceOf is m's bind source and what ProbeHost found there.
func (p *Plan) bindSourceOf(c Config, m *specs.Mount, desc string) (string, Source, error) {
	src := bindSource(c, m)
	fi, ok := p.host.Sources[src]
	if !ok {
		fi.Err = errors.New("not probed (initplan.ProbeHost)")
	}
	if fi.Err != nil {
		return "", fi, trace.Failed("mount", desc, fmt.Errorf("bind source: %w", fi.Err))
	}
	return src, fi, nil
}

// bindFlags applies a bind mount's flags (a remount: MS_BIND ignores all
// but MS_REC), its recursive attributes and its propagation, on the mount
// just made at m.Destination.
func (p *Plan) bindFlags(m *specs.Mount, o spec.MountOptions, desc string) {
	rec := o.Flags & unix.MS_REC
	p.emit(opLookup, 0, p.step("reopen", m.Destination+" after mount"), rT2, reg(rRoot), p.str_(m.Destination), imm(0))
	if rest := o.Flags &^ (unix.MS_BIND | unix.MS_REC); rest != 0 || o.ClearFlags != 0 {
		p.emit(opRemount, fTrace, p.traced("remount", desc), -1, fdname(rT2), imm(uint64(rest|rec)))
	}
	if o.RecAttrSet != 0 || o.RecAttrClr != 0 {
		attr := make([]byte, 32) // struct mount_attr
		binary.LittleEndian.PutUint64(attr[0:], o.RecAttrSet)
		binary.LittleEndian.PutUint64(attr[8:], o.RecAttrClr)
		p.sys(unix.SYS_MOUNT_SETATTR, fTrace, p.traced("mount_setattr", desc+" (recursive)"), -1,
			reg(rT2), p.str_(""), imm(unix.AT_EMPTY_PATH|unix.AT_RECURSIVE), arg{kStr, p.blob(attr)}, imm(32))
	}
	p.propagationOn(m, o, rT2)
	p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rT2))
}

// idmapMount moves the idmapped mount the runtime made before clone (see
// IDMapped) onto the target, then applies the bind's flags as bindMount
// does. The mount is made by the runtime because mount_setattr(2) gives
// MOUNT_ATTR_IDMAP only to a caller with CAP_SYS_ADMIN over the source's
// filesystem, which init, in the container's user namespace, has not; a
// detached mount (open_tree(OPEN_TREE_CLONE)) can be moved into init's
// mount namespace by init (runc passes it the same way).
func (p *Plan) idmapMount(c Config, m *specs.Mount, desc string) error {
	fd, ok := c.MountFds[mountIndex(c.Spec, m)]
	if !ok {
		return trace.Failed("mount", desc, errors.New("idmapped mount: the runtime made no mount for it (initplan.Config.MountFds)"))
	}
	_, fi, err := p.bindSourceOf(c, m, desc)
	if err != nil {
		return err
	}
	st := p.traced("mount", desc+" (idmapped: move_mount of the runtime's mount)")
	p.target(c, m, fi.Dir, st, rT1)
	p.sys(unix.SYS_MOVE_MOUNT, fTrace, st, -1, imm(uint64(fd)), p.str_(""), reg(rT1), p.str_(""),
		imm(unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH))
	p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rT1))
	p.sys(unix.SYS_CLOSE, 0, -1, -1, imm(uint64(fd)))
	p.bindFlags(m, spec.ParseMountOptions(m.Options), desc)
	return nil
}

// IDMapped reports whether m is an idmapped mount, as runc reads the
// spec: option idmap or ridmap, or ID mappings on the mount.
func IDMapped(m *specs.Mount) bool {
	return spec.ParseMountOptions(m.Options).IDMap || len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0
}

// mountIndex is m's index in s.Mounts (-1: a mount the compiler made).
func mountIndex(s *specs.Spec, m *specs.Mount) int {
	for i := range s.Mounts {
		if &s.Mounts[i] == m {
			return i
		}
	}
	return -1
}

func (p *Plan) propagation(m *specs.Mount, o spec.MountOptions) {
	if len(o.Propagation) == 0 {
		return
	}
	p.emit(opLookup, 0, p.step("reopen", m.Destination+" after mount"), rT2, reg(rRoot), p.str_(m.Destination), imm(0))
	p.propagationOn(m, o, rT2)
	p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rT2))
}

func (p *Plan) propagationOn(m *specs.Mount, o spec.MountOptions, r int) {
	for _, pr := range o.Propagation {
		p.mount(p.traced("mount", m.Destination+" propagation "+propName(pr)), p.str_(""), fdname(r), "", pr, "")
	}
}

// mountCgroup: a cgroup2 mount on a pure v2 host, else a writable tmpfs
// with one mount per v1 hierarchy (ContainerHierarchies), as runc
// makes them: fresh where freshCgroup allows it, otherwise (no
// cgroup namespace) binds of the container's cgroup, Config.CgroupSources.
func (p *Plan) mountCgroup(c Config, m *specs.Mount, desc string) error {
	p.joinCgroup(c)
	hier := p.host.Cgroups
	if err := p.host.CgroupsErr; err != nil {
		return &trace.StepError{Step: "mount", Operands: desc, Err: err}
	}
	o := spec.ParseMountOptions(m.Options)
	flags := o.Flags &^ (unix.MS_BIND | unix.MS_REC)
	if roCgroup(c.Rootless, c.CgroupNS) {
		flags |= unix.MS_RDONLY // CVE-2023-25809
	}
	one := func(dest string, h *mountinfo.Info) error {
		data := ""
		if h.FSType == "cgroup" {
			data = cgroupV1Opts(h.VFSOptions)
		}
		if freshCgroup(c.CgroupNS, c.UserNS, h) {
			// A fresh mount: the namespace's root is the container's
			// cgroup, or a pure v2 host's whole tree (runc's).
			st := p.traced("mount", fmt.Sprintf("%s on %s (%s)", h.FSType, dest, data))
			p.emit(opOpenDir, 0, st, rT1, reg(rRoot), p.str_(dest), imm(0o755))
			p.mount(st, p.str_(h.FSType), fdname(rT1), h.FSType, flags, data)
			p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rT1))
			return nil
		}
		// No cgroup namespace: a bind of the container's own cgroup.
		src, ok := c.CgroupSources[h.Mountpoint]
		if !ok {
			return trace.Failed("mount", desc, fmt.Errorf("no cgroup known for hierarchy %s (initplan.Config.CgroupSources; the runtime reads its own from /proc/self/cgroup)", h.Mountpoint))
		}
		st := p.traced("mount", "bind "+src+" on "+dest)
		p.emit(opOpenDir, 0, st, rT1, reg(rRoot), p.str_(dest), imm(0o755))
		p.mount(st, p.str_(src), fdname(rT1), "", unix.MS_BIND|unix.MS_REC, "")
		p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rT1))
		if flags != 0 {
			p.emit(opLookup, 0, p.step("reopen", dest+" after mount"), rT2, reg(rRoot), p.str_(dest), imm(0))
			p.emit(opRemount, fTrace, p.traced("remount", dest), -1, fdname(rT2), imm(uint64(flags)))
			p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rT2))
		}
		return nil
	}
	if len(hier) == 1 && hier[0].FSType == "cgroup2" && hier[0].Mountpoint == "/sys/fs/cgroup" {
		return one(m.Destination, hier[0])
	}
	base := m.Destination
	tmpfs := &specs.Mount{Destination: base, Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "noexec", "mode=755"}}
	if err := p.specMount(c, tmpfs); err != nil {
		return err
	}
	for _, h := range hier {
		dest := filepath.Join(base, filepath.Base(h.Mountpoint))
		if err := one(dest, h); err != nil {
			return err
		}
		if name := filepath.Base(h.Mountpoint); strings.Contains(name, ",") {
			for _, ctl := range strings.Split(name, ",") {
				p.symlink(name, filepath.Join(base, ctl))
			}
		}
	}
	return nil
}

// symlink creates link -> target inside the rootfs, replacing what is there.
func (p *Plan) symlink(target, link string) {
	st := p.traced("symlink", link+" -> "+target)
	p.emit(opOpenDir, 0, st, rDir, reg(rRoot), p.str_(filepath.Dir(link)), imm(0o755))
	p.emit(opSymlink, fTrace, st, -1, reg(rDir), p.str_(target), p.str_(filepath.Base(link)))
	p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rDir))
}

// devices makes device nodes: mknod, or in a user namespace a bind mount of
// the host's node onto an empty file.
func (p *Plan) devices(c Config, devs []specs.LinuxDevice) error {
	for i := range devs {
		d := &devs[i]
		desc := fmt.Sprintf("%s %s %d:%d", d.Path, d.Type, d.Major, d.Minor)
		if c.UserNS {
			st := p.traced("bind device", "host "+d.Path+" on "+desc)
			p.emit(opOpenFile, 0, st, rT1, reg(rRoot), p.str_(d.Path))
			p.mount(st, p.str_(d.Path), fdname(rT1), "", unix.MS_BIND, "")
			p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rT1))
			continue
		}
		typ, err := devType(d.Type)
		if err != nil {
			return &trace.StepError{Step: "mknod", Operands: desc, Err: err}
		}
		mode := uint32(0o666)
		if d.FileMode != nil {
			mode = uint32(d.FileMode.Perm())
		}
		var uid, gid uint64
		if d.UID != nil {
			uid = uint64(*d.UID)
		}
		if d.GID != nil {
			gid = uint64(*d.GID)
		}
		st := p.traced("mknod", desc)
		p.emit(opOpenDir, 0, st, rDir, reg(rRoot), p.str_(filepath.Dir(d.Path)), imm(0o755))
		p.emit(opMknod, fTrace, st, -1, reg(rDir), p.str_(filepath.Base(d.Path)), imm(uint64(typ|mode)),
			imm(unix.Mkdev(uint32(d.Major), uint32(d.Minor))), imm(uid), imm(gid))
		p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rDir))
	}
	return nil
}

// finish is what follows pivot_root: propagation of the new /, masked
// paths, readonly paths, read-only root.
func (p *Plan) finish(c Config) error {
	l := c.Spec.Linux
	p.sys(unix.SYS_FCHDIR, 0, -1, -1, reg(rFdDir))
	if pr := l.RootfsPropagation; pr != "" {
		f, _ := propagationFlag(pr)
		p.mount(p.traced("mount", "/ propagation "+pr+" (linux.rootfsPropagation)"), p.str_(""), p.str_("/"), "", f, "")
	}
	if len(l.MaskedPaths) > 0 {
		p.emit(opOpenNull, 0, p.step("mask", "open /dev/null"), rNull)
		for _, m := range l.MaskedPaths {
			p.emit(opMask, fTrace, p.traced("mask", m), -1, p.str_(m), reg(rNull), p.str_(withLabel("", l.MountLabel)))
		}
		p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rNull))
	}
	for _, r := range l.ReadonlyPaths {
		p.emit(opReadonly, fTrace, p.traced("mount", "bind "+r+" on itself (readonly path, remounted read-only)"), -1, p.str_(r))
	}
	for _, m := range p.cgroupAfterPivot {
		if err := p.specMount(c, m); err != nil {
			return err
		}
	}
	p.joinCgroup(c)
	if c.Spec.Root.Readonly {
		p.emit(opRemount, fTrace, p.traced("remount", "/ read-only (root.readonly)"), -1, p.str_("/"), imm(unix.MS_RDONLY))
	}
	p.sys(unix.SYS_CHDIR, 0, -1, -1, p.str_("/"))
	// The rootfs handle is done with: nothing the program can reach
	// (CVE-2024-21626) but what process set-up still needs.
	p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rRoot))
	return nil
}

// CompileExec compiles `hako exec`'s init: hako-init's nsenter has
// joined the container's namespaces (and the parent its cgroup), so what is
// left is the process itself.
func CompileExec(c Config, h Host) (*Plan, error) {
	s := c.Spec
	if s.Process == nil {
		return nil, errors.New("config has no process")
	}
	p := &Plan{strs: map[string]uint32{}, trace: c.Trace, exec: true, host: h}
	capset, filter, err := p.prepare(c)
	if err != nil {
		return nil, err
	}
	if c.JoinWhenPrimed {
		p.send(syncproto.Primed)
	}
	if s.Process.Terminal {
		if c.ConsoleFd < 0 {
			return nil, errors.New("process.terminal is true but no console socket was given (use --console-socket)")
		}
		p.emit(opOpenpty, fTrace, p.traced("openpty", "/dev/pts/ptmx"), rPtmx, imm(0), imm(0), imm(1))
		payload := "/dev/ptmx"
		p.emit(opSendFd, fTrace, p.traced("send console", "pty master over console socket"), -1,
			imm(uint64(c.ConsoleFd)), reg(rPtmx), p.str_(payload), imm(uint64(len(payload))))
		p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rPtmx))
		p.sys(unix.SYS_CLOSE, 0, -1, -1, imm(uint64(c.ConsoleFd)))
	}
	c.FifoFd = -1
	p.timerSlack(c)
	p.process(c, capset, filter)
	return p, nil
}

// prepare parses the capabilities and compiles the seccomp profile, with
// their warnings.
func (p *Plan) prepare(c Config) (*caps.Set, *seccomp.Program, error) {
	s := c.Spec
	capset, err := caps.Parse(s.Process.Capabilities)
	if err != nil {
		return nil, nil, err
	}
	if dropped := capset.Restrict(p.host.Bounding); len(dropped) > 0 {
		p.Warnings = append(p.Warnings, "not granted, outside hako's own bounding set on this host: "+strings.Join(dropped, ","))
	}
	var filter *seccomp.Program
	if sc := s.Linux.Seccomp; sc != nil {
		if filter, err = seccomp.Compile(sc); err != nil {
			return nil, nil, &trace.StepError{Step: "seccomp compile", Operands: fmt.Sprintf("default %s, %d rules", sc.DefaultAction, len(sc.Syscalls)), Err: err}
		}
		for _, w := range filter.Warnings {
			p.Warnings = append(p.Warnings, "seccomp: "+w)
		}
		if filter.Notify && c.ListenerFd <= 0 {
			return nil, nil, &trace.StepError{Step: "seccomp notify", Operands: "linux.seccomp.listenerPath",
				Err: errors.New("seccomp notify rules need linux.seccomp.listenerPath")}
		}
	}
	return capset, filter, nil
}

// --- the process: credentials, seccomp, lookup in PATH, exec ------------------

func (p *Plan) process(c Config, capset *caps.Set, filter *seccomp.Program) {
	s := c.Spec
	proc := s.Process
	if proc.Terminal && !p.noConsole {
		p.emit(opUseConsole, fTrace, p.traced("console", "pty as stdio + controlling terminal"), -1, reg(rPts))
	}
	m := capset.Masks(p.host.LastCap)
	if m.Given {
		p.emit(opBounding, fTrace, p.traced("capset bounding", capset.Names("bounding")), -1, imm(m.Bounding), imm(m.Last))
	}
	if len(proc.Rlimits) > 0 && !c.RlimitsBeforePlan {
		p.send(syncproto.Rlimits)
		p.wait("rlimits-ok")
	}
	cwd := proc.Cwd
	if cwd == "" {
		cwd = "/"
	}
	p.emit(opChdirCheck, fTrace, p.traced("chdir", cwd+" (check it is inside the root)"), -1, p.str_(cwd))
	var seccompStep int32
	var seccompArgs []arg
	if filter != nil {
		prog := make([]byte, 8*len(filter.Filter))
		for i, f := range filter.Filter {
			binary.LittleEndian.PutUint16(prog[8*i:], f.Code)
			prog[8*i+2], prog[8*i+3] = f.Jt, f.Jf
			binary.LittleEndian.PutUint32(prog[8*i+4:], f.K)
		}
		seccompStep = p.traced("seccomp load", fmt.Sprintf("%d instructions, flags %#x", len(filter.Filter), filter.Flags))
		seccompArgs = []arg{{kStr, p.blob(prog)}, imm(uint64(len(filter.Filter))), imm(uint64(filter.Flags))}
	}
	// Before the uid change unless no_new_privs allows loading it last;
	// with notify rules always before ready, so that the agent has the
	// listener fd once create returns (as runc).
	beforeSetuid := filter != nil && (!proc.NoNewPrivileges || filter.Notify)
	if beforeSetuid {
		p.seccomp(c, filter, seccompStep, seccompArgs)
	}
	u := proc.User
	groups := make([]byte, 4*len(u.AdditionalGids))
	for i, g := range u.AdditionalGids {
		binary.LittleEndian.PutUint32(groups[4*i:], g)
	}
	p.emit(opSetuser, fTrace, p.traced("setuid", fmt.Sprintf("uid=%d gid=%d groups=%v", u.UID, u.GID, u.AdditionalGids)), -1,
		imm(uint64(u.UID)), imm(uint64(u.GID)), arg{kStr, p.blob(groups)}, imm(uint64(len(u.AdditionalGids))))
	if m.Given {
		p.emit(opCapset, fTrace, p.traced("capset", fmt.Sprintf("effective=%s permitted=%s inheritable=%s",
			capset.Names("effective"), capset.Names("permitted"), capset.Names("inheritable"))), -1,
			imm(m.Effective), imm(m.Permitted), imm(m.Inheritable))
		if m.Ambient != 0 {
			p.emit(opAmbient, fTrace, p.traced("capset ambient", capset.Names("ambient")), -1, imm(m.Ambient))
		}
	}
	if proc.NoNewPrivileges {
		p.sys(unix.SYS_PRCTL, fTrace, p.traced("prctl", "PR_SET_NO_NEW_PRIVS"), -1, imm(unix.PR_SET_NO_NEW_PRIVS), imm(1), imm(0), imm(0), imm(0))
	}
	mask := uint64(0o022)
	if proc.User.Umask != nil {
		mask = uint64(*proc.User.Umask)
	}
	p.sys(unix.SYS_UMASK, 0, -1, -1, imm(mask))
	p.sys(unix.SYS_CHDIR, fTrace, p.traced("chdir", cwd), -1, p.str_(cwd))
	p.emit(opLookpath, fTrace, p.traced("lookup", proc.Args[0]), -1, p.str_(proc.Args[0]), p.str_(getenv(proc.Env, "PATH")))
	p.lsmExec(proc)
	if p.exec && c.JoinByPid {
		// exec: the parent moves the process into the container's cgroup
		// while it sets itself up; it must be there before it is ready.
		p.send(syncproto.Cgroup)
		p.wait("cgroup-ok")
	}
	p.send(syncproto.Ready)
	ready := len(p.ops)
	if c.FifoFd >= 0 {
		p.emit(opFifoWait, 0, p.step("wait for start", "exec.fifo"), -1, reg(rFdDir), imm(uint64(c.FifoFd)))
	}
	if !p.exec {
		// Once started, right before the program (runtime-spec): as the
		// container's user, with its capabilities.
		p.hooks(c, "startContainer")
	}
	first := 3 + c.PreserveFDs
	p.emit(opCloexecFrom, fTrace, p.traced("close_range", fmt.Sprintf("%d.. CLOEXEC", first)), -1, imm(uint64(first)))
	if filter != nil && !beforeSetuid {
		p.seccomp(c, filter, seccompStep, seccompArgs)
	}
	argv := strings.Join(proc.Args, "\x00")
	env := strings.Join(proc.Env, "\x00")
	homeUID := ^uint64(0)
	if getenv(proc.Env, "HOME") == "" {
		homeUID = uint64(u.UID)
	}
	p.emit(opExec, fTrace, p.traced("exec", strings.Join(proc.Args, " ")), -1,
		p.str_(argv), imm(uint64(len(proc.Args))), p.str_(env), imm(uint64(len(proc.Env))), imm(homeUID))
	// hako stops listening once init is ready: what fails from here on
	// (execve above all) is reported on stderr too.
	for i := ready; i < len(p.ops); i++ {
		p.ops[i].flags |= fLate
	}
}

func getenv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// seccomp loads the filter; with notify rules the filter's listener fd
// goes to the agent with the container's state, as runc sends it
// (specs.ContainerProcessState: status "creating", init's pid).
func (p *Plan) seccomp(c Config, filter *seccomp.Program, st int32, args []arg) {
	if !filter.Notify {
		p.emit(opSeccomp, fTrace, st, -1, args...)
		return
	}
	p.emit(opSeccomp, fTrace, st, rListener, args...)
	sc := c.Spec.Linux.Seccomp
	state, meta := hookState(c, "creating"), sc.ListenerMetadata
	late := p.lateState(func(pid int) []byte {
		state.Pid = pid
		b, _ := seccomp.ListenerState(state, pid, meta)
		return b
	})
	p.emit(opSendFd, fTrace, p.traced("seccomp notify", "send listener fd to "+sc.ListenerPath), -1,
		imm(uint64(c.ListenerFd)), reg(rListener), late, imm(0))
	p.sys(unix.SYS_CLOSE, 0, -1, -1, reg(rListener))
	p.sys(unix.SYS_CLOSE, 0, -1, -1, imm(uint64(c.ListenerFd)))
}
