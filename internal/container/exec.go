package container

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/cgroups"
	"hako/internal/initplan"
	"hako/internal/lsm"
	"hako/internal/namespaces"
	"hako/internal/nsenter"
	"hako/internal/state"
	"hako/internal/syncproto"
)

// ExecOpts are the options of `hako exec`.
type ExecOpts struct {
	Process       *specs.Process
	ConsoleSocket string
	Console       *os.File // an already connected console socket (exec's own relay)
	PidFile       string
	PreserveFDs   int
	// Cgroups: join these existing child cgroups instead of the
	// container's own (exec --cgroup, cgroups.Sub).
	Cgroups []string
}

// Exec starts another process in a running container: it joins every
// namespace of the container (the user and mount namespaces through the
// hako-init's nsenter, before the Go runtime starts), its cgroup, and gets
// the process's user, capabilities, rlimits and no_new_privs. The returned
// process is a child of the caller (hako becomes a child subreaper, so the
// grandchild forked into the container's PID namespace is reparented to it).
func (c *Container) Exec(o ExecOpts) (*Proc, error) {
	if st := c.Status(); st != state.Running && st != state.Created {
		return nil, fmt.Errorf("cannot exec in container %s: it is %s: %w", idOf(c), st, ErrState)
	}
	if o.Process == nil || len(o.Process.Args) == 0 {
		return nil, fmt.Errorf("exec: no command given")
	}
	if o.Process.Terminal && o.ConsoleSocket == "" && o.Console == nil {
		return nil, fmt.Errorf("exec: --tty needs --console-socket (or a foreground exec)")
	}
	o.Process = withLSM(o.Process, c.State.Spec.Process)
	if err := lsm.Check(o.Process); err != nil {
		return nil, err
	}
	e := &execution{c: c, o: o}
	p, err := e.run()
	if err != nil {
		e.undo()
		return nil, err
	}
	return p, nil
}

// withLSM gives p the container's AppArmor profile and SELinux label where
// it names none of its own, as runc does: a process exec'd into a confined
// container is confined too (a --process file without the fields included).
func withLSM(p, base *specs.Process) *specs.Process {
	if base == nil || (p.ApparmorProfile != "" || base.ApparmorProfile == "") && (p.SelinuxLabel != "" || base.SelinuxLabel == "") {
		return p
	}
	q := *p
	if q.ApparmorProfile == "" {
		q.ApparmorProfile = base.ApparmorProfile
	}
	if q.SelinuxLabel == "" {
		q.SelinuxLabel = base.SelinuxLabel
	}
	return &q
}

type execution struct {
	c *Container
	o ExecOpts
	// child is the process hako started (hako-init's intermediate
	// when it forked into the PID namespace).
	child *Proc
	sync  *syncproto.Conn
	pid   int
	// plan is what the process executes after the nsenter hako-init
	// joined the namespaces (see initplan.CompileExec).
	plan *initplan.Plan
	// joinWhenPrimed: rlimits go before the plan and the process is moved into
	// the cgroup while it sets itself up (it asks before it is ready).
	joinWhenPrimed bool
}

// joinCgroup moves the process into m, the container's cgroup. On cgroup
// v2 a container that runs its own cgroups (systemd as PID 1 moves itself
// to init.scope and enables controllers below) keeps no process in its top
// cgroup, and the kernel refuses one there (EBUSY: no internal processes):
// the process then joins init's cgroup, below m's, as runc does.
func (e *execution) joinCgroup(m cgroups.Manager) error {
	err := m.Apply(e.pid)
	if err == nil || !errors.Is(err, unix.EBUSY) || len(e.o.Cgroups) > 0 {
		return err
	}
	b, rerr := os.ReadFile("/proc/" + strconv.Itoa(e.c.State.Pid) + "/cgroup")
	if rerr != nil {
		return err
	}
	rel, ok := belowCgroup(m.Paths()[""], string(b))
	if !ok {
		return err
	}
	sub, serr := cgroups.Sub(m, []string{rel}, e.c.rt.Log)
	if serr != nil {
		return err
	}
	return sub.Apply(e.pid)
}

// belowCgroup finds, in procCgroup (/proc/PID/cgroup), the cgroup2 path
// ("0::/a/b/init.scope", from the hierarchy's root) and returns it relative
// to dir (a directory of the mounted hierarchy, /sys/fs/cgroup/a/b), when
// it is strictly below dir.
func belowCgroup(dir, procCgroup string) (string, bool) {
	var p string
	for _, l := range strings.Split(procCgroup, "\n") {
		if strings.HasPrefix(l, "0::/") {
			p = l[3:]
		}
	}
	if p == "" || dir == "" {
		return "", false
	}
	for i := 0; i < len(dir); i++ {
		if dir[i] == '/' && strings.HasPrefix(p, dir[i:]+"/") {
			return p[len(dir[i:])+1:], true
		}
	}
	return "", false
}

func (e *execution) run() (*Proc, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("exec: become child subreaper: %w", err)
	}
	if err := e.spawn(); err != nil {
		return nil, err
	}
	m := e.c.cgroup()
	if m != nil && len(e.o.Cgroups) > 0 {
		var err error
		if m, err = cgroups.Sub(m, e.o.Cgroups, e.c.rt.Log); err != nil {
			return nil, err
		}
	}
	if m != nil && !e.joinWhenPrimed {
		if err := e.joinCgroup(m); err != nil {
			return nil, err
		}
	}
	if err := e.handshake(m); err != nil {
		return nil, err
	}
	if e.o.PidFile != "" {
		if err := writePidFile(e.o.PidFile, e.pid); err != nil {
			return nil, err
		}
	}
	return &Proc{Pid: e.pid}, nil
}

// namespacesToJoin lists the container's namespaces that differ from ours.
func (e *execution) namespacesToJoin() map[string]string {
	out := map[string]string{}
	for _, t := range namespaces.ProcNames() {
		theirs := fmt.Sprintf("/proc/%d/ns/%s", e.c.State.Pid, t)
		a, err1 := os.Readlink(theirs)
		b, err2 := os.Readlink("/proc/self/ns/" + t)
		if err1 == nil && err2 == nil && a != b {
			out[t] = theirs
		}
	}
	return out
}

func (e *execution) spawn() error {
	parent, child, err := socketpair()
	if err != nil {
		return err
	}
	defer child.Close()
	e.sync = syncproto.New(parent)
	e.sync.OnWarning = func(s string) { fmt.Fprintln(e.c.rt.warnOut(), "hako: warning:", s) }
	ic, err := e.command(child)
	if ic != nil {
		defer ic.report.Close()
		defer ic.release()
	}
	if err != nil {
		return err
	}
	err = e.c.rt.Log.Step("clone", "hako-init (exec: setns into the container's namespaces)", func() error {
		var err error
		e.child, err = forkExec(ic.cmd)
		return err
	})
	// Our write end closed, a hako-init that dies without a word gives EOF.
	ic.release()
	if err != nil {
		return err
	}
	return e.readPid(ic.report)
}

// command builds the process's command (initCommand, shared with create):
// hako-init's nsenter joins every namespace of the container that differs
// from ours, then the process runs its plan.
func (e *execution) command(sync *os.File) (*initCmd, error) {
	f := initFiles{preserveFDs: e.o.PreserveFDs, sync: sync, nsenter: true, join: e.namespacesToJoin()}
	if e.o.Process.Terminal {
		f.console = e.o.Console
		if f.console == nil {
			var err error
			if f.console, err = dialConsole(e.o.ConsoleSocket); err != nil {
				return nil, err
			}
		}
	}
	var err error
	if f.listener, err = dialListener(e.c.State.Spec); err != nil {
		closeAll(f.console)
		return nil, err
	}
	ic, err := initCommand(f)
	if err != nil {
		closeAll(f.console, f.listener)
		return nil, err
	}
	err = e.compilePlan(ic.consoleFd, ic.listenerFd)
	if err == nil {
		err = ic.program(e.c.rt.Log)
	}
	return ic, err
}

// compilePlan compiles the process set-up into the plan hako-init carries
// out once it has joined the namespaces.
func (e *execution) compilePlan(consoleFd, listenerFd int) error {
	spec := *e.c.State.Spec
	spec.Process = e.o.Process
	whenPrimed := initplan.RlimitsBeforePlan(spec.Process.Rlimits) && e.c.cgroup() != nil
	h, err := initplan.ProbeExecHost(spec.Process)
	if err != nil {
		return err
	}
	pl, err := initplan.CompileExec(initplan.Config{Spec: &spec, ID: e.c.State.ID, Bundle: e.c.State.Bundle,
		PreserveFDs: e.o.PreserveFDs, Trace: e.c.rt.Trace, ConsoleFd: consoleFd, ListenerFd: listenerFd, FifoFd: -1, TimerSlack: nsenter.TimerSlack(),
		RlimitsBeforePlan: whenPrimed, JoinByPid: whenPrimed, JoinWhenPrimed: whenPrimed}, h)
	if err != nil {
		return err
	}
	for _, w := range pl.Warnings {
		fmt.Fprintln(e.c.rt.warnOut(), "hako: warning:", w)
	}
	e.plan, e.joinWhenPrimed = pl, whenPrimed
	return nil
}

func (e *execution) readPid(pr *os.File) error {
	pid, err := readNsenterPid(pr, e.child)
	if err != nil {
		return err
	}
	e.pid = pid
	e.c.rt.Log.Note("exec pid", strconv.Itoa(pid))
	return nil
}

// readNsenterPid reads hako-init's nsenter's report: the pid that will
// run the program, or why joining failed. When hako-init forked into
// a PID namespace it reaps the intermediate process; the caller, a child
// subreaper, inherits the grandchild.
func readNsenterPid(pr *os.File, child *Proc) (int, error) {
	line, _ := bufio.NewReader(pr).ReadString('\n')
	line = strings.TrimSpace(line)
	var ws syscall.WaitStatus
	if line != "pid "+strconv.Itoa(child.Pid) {
		ws, _ = child.Wait()
	}
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		return 0, fmt.Errorf("%s", msg)
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(line, "pid "))
	if err != nil || pid <= 0 {
		if line == "" {
			return 0, fmt.Errorf("nsenter: the process exited before reporting (%s)", StatusString(ws))
		}
		return 0, fmt.Errorf("nsenter reported %q", line)
	}
	return pid, nil
}

func (e *execution) handshake(m cgroups.Manager) error {
	spec := *e.c.State.Spec
	spec.Process = e.o.Process
	var joined bool
	if e.joinWhenPrimed && len(spec.Process.Rlimits) > 0 {
		if err := setRlimits(e.pid, &spec, e.c.rt.Log); err != nil {
			return err
		}
	}
	if _, err := e.sync.File().Write(e.plan.Bytes(e.pid)); err != nil {
		return fmt.Errorf("sync: send exec plan: %w", err)
	}
	if e.joinWhenPrimed {
		// Answered before the process asks (it asks just before
		// ready, after its own set-up, which runs meanwhile), once it
		// is primed (see initplan.Config.JoinWhenPrimed); a failed send
		// means it is gone, and Expect says why.
		if _, err := e.sync.Expect(syncproto.Primed, e.c.rt.Log.Forward); err != nil {
			return e.initErr(err)
		}
		if err := e.joinCgroup(m); err != nil {
			return err
		}
		_ = e.sync.Send(syncproto.Msg{Type: syncproto.CgroupDone})
		joined = true
	}
	onTrace := e.c.rt.Log.Forward
	if joined {
		if _, err := e.sync.Expect(syncproto.Cgroup, onTrace); err != nil {
			return e.initErr(err)
		}
	} else if len(spec.Process.Rlimits) > 0 {
		if _, err := e.sync.Expect(syncproto.Rlimits, onTrace); err != nil {
			return e.initErr(err)
		}
		if err := setRlimits(e.pid, &spec, e.c.rt.Log); err != nil {
			return err
		}
		if err := e.sync.Send(syncproto.Msg{Type: syncproto.RlimitsDone}); err != nil {
			return err
		}
	}
	if _, err := e.sync.Expect(syncproto.Ready, onTrace); err != nil {
		return e.initErr(err)
	}
	// Init's last steps, until its execve closes the socket.
	e.sync.Expect("", onTrace)
	e.sync.Close()
	return nil
}

func (e *execution) initErr(err error) error {
	if err == syncproto.ErrClosed {
		return fmt.Errorf("exec: the process exited before it was ready (no error was reported; see its stderr above)")
	}
	return err
}

func (e *execution) undo() {
	if e.pid > 0 {
		unix.Kill(e.pid, unix.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(e.pid, &ws, 0, nil)
	}
	if e.sync != nil {
		e.sync.Close()
	}
}
