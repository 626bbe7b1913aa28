package container

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/initplan"
	"hako/internal/namespaces"
	"hako/internal/nsenter"
	"hako/internal/rawfile"
	"hako/internal/syncproto"
	"hako/internal/unixsock"
	"hako/internal/userns"
)

// cloneFlags are the new namespaces clone(2) makes for init. cgroup and
// time are left out on purpose: init unshares them itself (a time namespace
// must get its offsets before anyone is inside it; a cgroup namespace must
// be rooted at the container's cgroup, which init joins only after clone on
// a v1 host).
func cloneFlags(nss []specs.LinuxNamespace) uintptr {
	var f uintptr
	for _, ns := range nss {
		if ns.Path == "" && ns.Type != specs.CgroupNamespace && ns.Type != specs.TimeNamespace {
			f |= namespaces.CloneFlag(ns.Type)
		}
	}
	return f
}

// spawn starts init (hako-init) in its new namespaces. Namespaces given by path
// are entered first, on a locked OS thread that then forks, so the child
// inherits them.
func (cr *creation) spawn() error {
	parent, child, err := socketpair()
	if err != nil {
		return err
	}
	defer child.Close()
	cr.sync = syncproto.New(parent)
	cr.sync.OnWarning = func(s string) { fmt.Fprintln(cr.rt.warnOut(), "hako: warning:", s) }
	ic, err := cr.command(child)
	if ic != nil {
		// Our copies of the files only init needs (console and listener
		// sockets, the nsenter pipe's write end) go once it is started;
		// the preserved fds, the sync socket and exec.fifo are closed
		// elsewhere.
		defer ic.release()
		if a := ic.cmd.SysProcAttr; a != nil && a.UseCgroupFD {
			defer unix.Close(a.CgroupFD)
		}
	}
	if err != nil {
		return err
	}
	cmd := ic.cmd
	cr.cmd, cr.waitMap = cmd, ic.waitMap
	if err := cr.start(ic); err != nil {
		return err
	}
	cr.rt.Log.Note("init pid", strconv.Itoa(cr.proc.Pid))
	if len(cmd.SysProcAttr.UidMappings) > 0 {
		cr.rt.Log.Note("id maps", fmt.Sprintf("uid_map %s, gid_map %s, setgroups %s (written by hako before init ran)",
			mapString(cr.spec.Linux.UIDMappings), mapString(cr.spec.Linux.GIDMappings), setgroupsWord(cmd.SysProcAttr)))
	}
	if cr.waitMap {
		if err := cr.writeMaps(); err != nil {
			return err
		}
	}
	return cr.sendPlan()
}

// start starts init: straight from a thread that joined the path
// namespaces, or through hako-init's nsenter when a user namespace must
// be joined.
func (cr *creation) start(ic *initCmd) error {
	if ic.report != nil {
		defer ic.report.Close()
		return cr.rt.Log.Step("clone", "hako-init via nsenter (join the user namespace by path, then unshare)", func() error {
			p, err := cr.startViaNsenter(ic)
			cr.proc = p
			return err
		})
	}
	flags := ic.cmd.SysProcAttr.Cloneflags
	return cr.rt.Log.Step("clone", namespaces.FlagString(flags)+" + exec hako-init", func() error {
		return withJoined(cr.spec.Linux.Namespaces, func() error {
			p, err := forkExec(ic.cmd)
			cr.proc = p
			return err
		})
	})
}

// forkExec starts cmd with syscall.ForkExec rather than cmd.Start: os/exec
// first probes, once per process, whether clone(CLONE_PIDFD) works by
// forking a throwaway child, which costs `hako run` ~0.2 ms (measured).
// The stdio of cmd must be *os.File.
func forkExec(cmd *exec.Cmd) (*Proc, error) {
	files := make([]uintptr, 0, 3+len(cmd.ExtraFiles))
	for i, s := range []any{cmd.Stdin, cmd.Stdout, cmd.Stderr} {
		f, ok := s.(*os.File)
		if !ok || f == nil {
			return nil, fmt.Errorf("init's stdio %d is not a file", i)
		}
		files = append(files, f.Fd())
	}
	for _, f := range cmd.ExtraFiles {
		files = append(files, f.Fd())
	}
	pid, err := syscall.ForkExec(cmd.Path, cmd.Args, &syscall.ProcAttr{Dir: cmd.Dir, Env: cmd.Env, Files: files, Sys: cmd.SysProcAttr})
	if err != nil {
		return nil, err
	}
	return &Proc{Pid: pid}, nil
}

// writeMaps runs newuidmap/newgidmap for init, then wakes it with one byte
// on the sync socket (JSON decoders skip the newline).
func (cr *creation) writeMaps() error {
	l := cr.spec.Linux
	ops := fmt.Sprintf("uid_map %s, gid_map %s via newuidmap/newgidmap", mapString(l.UIDMappings), mapString(l.GIDMappings))
	if err := cr.rt.Log.Step("write id maps", ops, func() error {
		return userns.WriteMaps(cr.proc.Pid, l.UIDMappings, l.GIDMappings)
	}); err != nil {
		return err
	}
	_, err := cr.sync.File().Write([]byte("\n"))
	return err
}

func setgroupsWord(a *syscall.SysProcAttr) string {
	if a.GidMappingsEnableSetgroups {
		return "allow"
	}
	return "deny"
}

// mapString prints ID maps as the kernel's map files read: "inside outside count".
func mapString(m []specs.LinuxIDMapping) string {
	var parts []string
	for _, e := range m {
		parts = append(parts, fmt.Sprintf("%d %d %d", e.ContainerID, e.HostID, e.Size))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func socketpair() (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("sync socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-init"), nil
}

// command builds init's command (initCommand, shared with exec): which
// files it gets, its clone flags and ID maps, and the plan it runs.
func (cr *creation) command(sync *os.File) (*initCmd, error) {
	f := initFiles{dir: cr.bundle, stdio: cr.o.Stdio, preserveFDs: cr.o.PreserveFDs, sync: sync, fifo: cr.fifo}
	var err error
	if f.console, err = cr.consoleSocket(); err != nil {
		return nil, err
	}
	if f.listener, err = dialListener(cr.spec); err != nil {
		closeAll(f.console)
		return nil, err
	}
	if cr.joinsUserNS() {
		f.nsenter = true
		f.join, f.unshare = cr.nsenterNamespaces()
	}
	attr, waitMap, err := cr.sysProcAttr()
	f.waitMap = waitMap
	if err == nil {
		f.idmapped, err = cr.idmappedMounts()
	}
	if err != nil {
		closeAll(f.console, f.listener)
		return nil, err
	}
	ic, err := initCommand(f)
	if err != nil {
		closeAll(f.console, f.listener)
		closeAll(slices.Collect(maps.Values(f.idmapped))...)
		return nil, err
	}
	ic.cmd.SysProcAttr = attr
	err = cr.compilePlan(ic, attr.UseCgroupFD)
	if err == nil {
		err = ic.program(cr.rt.Log)
	}
	return ic, err
}

// compilePlan compiles init's work into the plan hako-init carries out
// (internal/initplan, internal/nsenter/c/plan.c), probing this host once.
func (cr *creation) compilePlan(ic *initCmd, cloneIntoCgroup bool) error {
	beforePlan := initplan.RlimitsBeforePlan(cr.spec.Process.Rlimits)
	cfg := initplan.Config{Spec: cr.spec, ID: cr.o.ID, Bundle: cr.bundle, Rootfs: cr.spec.Root.Path,
		NoPivot: cr.o.NoPivot, PreserveFDs: cr.o.PreserveFDs, Trace: cr.rt.Trace,
		JoinByPid: cr.cg != nil && !cloneIntoCgroup,
		UserNS:    cr.inUserNS(), NetNS: cr.hasNS(specs.NetworkNamespace),
		CgroupNS: cr.hasNS(specs.CgroupNamespace), Rootless: cr.rt.Rootless,
		JoinWhenPrimed: cr.cgAfterClone,
		FifoFd:         ic.fifoFd, ConsoleFd: ic.consoleFd, ListenerFd: ic.listenerFd, MountFds: ic.mountFds,
		RlimitsBeforePlan: beforePlan, TimerSlack: nsenter.TimerSlack(), CgroupSources: cr.cgroupSources()}
	h, err := initplan.ProbeHost(cfg)
	if err != nil {
		return err
	}
	pl, err := initplan.Compile(cfg, h)
	if err != nil {
		return err
	}
	for _, w := range pl.Warnings {
		fmt.Fprintln(cr.rt.warnOut(), "hako: warning:", w)
	}
	cr.plan, cr.rlimitsBeforePlan = pl, beforePlan && len(cr.spec.Process.Rlimits) > 0
	return nil
}

func (cr *creation) hasNS(t specs.LinuxNamespaceType) bool {
	return namespaces.Contains(cr.spec.Linux.Namespaces, t)
}

// inUserNS: the container is in a user namespace that is not the initial
// one, its own or hako's (rootless podman): no mknod, no sysfs unless it
// owns its network namespace, locked mount flags (runc: useBindMount).
func (cr *creation) inUserNS() bool {
	return cr.hasNS(specs.UserNamespace) || cr.rt.InUserNS
}

// consoleSocket connects to --console-socket now, in the runtime's mount
// namespace, so init needs no path to it.
func (cr *creation) consoleSocket() (*os.File, error) {
	if cr.spec.Process == nil || !cr.spec.Process.Terminal {
		return nil, nil
	}
	if cr.o.Console != nil {
		return cr.o.Console, nil
	}
	return dialConsole(cr.o.ConsoleSocket)
}

// dialListener connects to linux.seccomp.listenerPath when the profile has
// notify rules: init sends the listener fd there itself, right after loading
// the filter (the path is out of its reach after pivot_root).
func dialListener(s *specs.Spec) (*os.File, error) {
	sc := s.Linux.Seccomp
	if sc == nil || sc.ListenerPath == "" || !hasNotify(sc) {
		return nil, nil
	}
	f, err := unixsock.Dial(sc.ListenerPath)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp.listenerPath: %w", err)
	}
	return f, nil
}

func hasNotify(sc *specs.LinuxSeccomp) bool {
	for _, r := range sc.Syscalls {
		if r.Action == specs.ActNotify {
			return true
		}
	}
	return false
}

// dialConsole connects to a --console-socket path.
func dialConsole(path string) (*os.File, error) {
	f, err := unixsock.Dial(path)
	if err != nil {
		return nil, fmt.Errorf("connect console socket: %w", err)
	}
	return f, nil
}

// sysProcAttr is how init is cloned: new namespaces, ID maps and its
// cgroup; waitMap when newuidmap must write the maps after clone.
func (cr *creation) sysProcAttr() (a *syscall.SysProcAttr, waitMap bool, err error) {
	a = &syscall.SysProcAttr{Setsid: true}
	if cr.joinsUserNS() {
		// hako-init joins and unshares everything after exec; init
		// joins its cgroup by pid (no CLONE_INTO_CGROUP).
		return a, false, nil
	}
	a.Cloneflags = cloneFlags(cr.spec.Linux.Namespaces)
	if a.Cloneflags&unix.CLONE_NEWUSER != 0 && cr.helperMaps() {
		// newuidmap/newgidmap write the maps after clone; init waits for
		// them, then re-executes itself to gain its capabilities (see
		// syncproto.EnvWaitMap).
		return a, true, cr.cgroupFD(a)
	}
	if a.Cloneflags&unix.CLONE_NEWUSER != 0 {
		a.UidMappings = idMaps(cr.spec.Linux.UIDMappings)
		a.GidMappings = idMaps(cr.spec.Linux.GIDMappings)
		// Root may leave setgroups allowed (containers need additionalGids);
		// anyone else must write "deny" before gid_map (user_namespaces(7)).
		a.GidMappingsEnableSetgroups = os.Geteuid() == 0
		// Become root of the new namespace before exec: hako's own uid is
		// usually not mapped there, and execve as an unmapped (overflow) uid
		// would drop every capability init needs (capabilities(7)).
		a.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: !a.GidMappingsEnableSetgroups}
	}
	return a, false, cr.cgroupFD(a)
}

// helperMaps reports whether the ID maps need newuidmap/newgidmap.
func (cr *creation) helperMaps() bool {
	l := cr.spec.Linux
	return userns.NeedsHelper(l.UIDMappings, uint32(os.Geteuid())) || userns.NeedsHelper(l.GIDMappings, uint32(os.Getegid()))
}

// cgroupFD asks for CLONE_INTO_CGROUP where the host allows it.
func (cr *creation) cgroupFD(a *syscall.SysProcAttr) error {
	if cr.cg == nil {
		return nil
	}
	fd, err := cr.cg.CgroupFD()
	if err != nil {
		return err
	}
	if fd >= 0 {
		a.UseCgroupFD, a.CgroupFD = true, fd
	}
	return nil
}

func idMaps(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(m))
	for i, e := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)}
	}
	return out
}

// withJoined runs fn on a fresh OS thread that has entered every namespace
// the spec gives by path. setns(2) on one thread only changes that thread,
// and a clone made from it inherits them. The thread is never unlocked, so
// the Go runtime discards it afterwards instead of reusing it. A mount
// namespace additionally needs the thread to stop sharing its filesystem
// context with the others (unshare CLONE_FS). A user namespace cannot be
// joined this way: the kernel refuses setns(CLONE_NEWUSER) to a
// multithreaded process.
func withJoined(nss []specs.LinuxNamespace, fn func() error) error {
	var joins []specs.LinuxNamespace
	for _, ns := range nss {
		if ns.Path != "" {
			joins = append(joins, ns)
		}
	}
	if len(joins) == 0 {
		return fn()
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		done <- joinThen(joins, fn)
	}()
	return <-done
}

func joinThen(joins []specs.LinuxNamespace, fn func() error) error {
	for _, ns := range joins {
		if err := setns(ns); err != nil {
			return err
		}
	}
	return fn()
}

func setns(ns specs.LinuxNamespace) error {
	if ns.Type == specs.UserNamespace {
		return fmt.Errorf("join user namespace %s: not supported yet (the kernel refuses setns into a user namespace from a multithreaded Go process)", ns.Path)
	}
	fd, err := unix.Open(ns.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("join %s namespace: %w", ns.Type, err)
	}
	defer unix.Close(fd)
	if ns.Type == specs.MountNamespace {
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			return fmt.Errorf("join mount namespace: unshare CLONE_FS: %w", err)
		}
	}
	if err := unix.Setns(fd, int(namespaces.CloneFlag(ns.Type))); err != nil {
		return fmt.Errorf("join %s namespace %s: setns: %w", ns.Type, ns.Path, err)
	}
	return nil
}

// sendPlan hands init its plan, as sync message 1, with the state JSON
// for hooks and a seccomp agent filled in with init's pid.
func (cr *creation) sendPlan() error {
	if cr.rlimitsBeforePlan {
		// Before the plan goes: init must not get past them unlimited.
		if err := setRlimits(cr.proc.Pid, cr.spec, cr.rt.Log); err != nil {
			return err
		}
	}
	if _, err := cr.sync.File().Write(cr.plan.Bytes(cr.proc.Pid)); err != nil {
		return fmt.Errorf("sync: send init plan: %w", err)
	}
	return nil
}

// closeAll closes the files that are not nil.
func closeAll(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

// cgroupSources maps each host cgroup hierarchy to the cgroup directory a
// cgroup mount without a cgroup namespace binds there: the container's
// own, or where it has none (no cgroup at all, as a rootless container on
// cgroup v1; a hierarchy the manager does not use) the one init stays in,
// hako's own (initplan.CgroupBindSources). A hierarchy left out makes the
// plan's compilation fail, naming the mount.
func (cr *creation) cgroupSources() map[string]string {
	if cr.hasNS(specs.CgroupNamespace) || !hasCgroupMount(cr.spec) {
		return nil
	}
	hier, err := initplan.ContainerHierarchies()
	if err != nil {
		return nil // the plan reports it (Host.CgroupsErr)
	}
	var paths map[string]string
	if cr.cg != nil {
		paths = cr.cg.Paths()
	}
	self, err := rawfile.ReadFile("/proc/self/cgroup")
	if err != nil {
		cr.rt.Log.Note("cgroup", "read /proc/self/cgroup: "+err.Error())
	}
	out, err := initplan.CgroupBindSources(hier, paths, self)
	if err != nil {
		cr.rt.Log.Note("cgroup", err.Error())
	}
	return out
}

func hasCgroupMount(s *specs.Spec) bool {
	for i := range s.Mounts {
		if t := s.Mounts[i].Type; (t == "cgroup" || t == "cgroup2") && !initplan.IsBind(&s.Mounts[i]) {
			return true
		}
	}
	return false
}
