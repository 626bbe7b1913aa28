package container

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/cgroups"
	"hako/internal/hooks"
	"hako/internal/initplan"
	"hako/internal/lsm"
	"hako/internal/spec"
	"hako/internal/state"
	"hako/internal/syncproto"
	"hako/internal/trace"
)

// CreateOpts are the options of `hako create` (and of `run`).
type CreateOpts struct {
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string   // path of a unix socket to send the pty master to
	Console       *os.File // or: an already connected socket (run's own relay)
	NoPivot       bool
	PreserveFDs   int
	Stdio         [3]*os.File // nil: hako's own
	// NoFifo: init goes on to exec as soon as it is ready, without waiting
	// for Start on exec.fifo (run, which starts at once). Start then only
	// runs the poststart hooks.
	NoFifo bool
}

// creation is the work in progress of one create; undo removes what it made.
type creation struct {
	rt   *Runtime
	o    CreateOpts
	spec *specs.Spec
	// specJSON is config.json as read, stored in state.json as is.
	specJSON []byte
	dir      *state.Dir
	cg       cgroups.Manager
	fifo     *os.File
	cmd      *exec.Cmd
	sync     *syncproto.Conn
	bundle   string
	// waitMap: ID maps are written by newuidmap after clone (rootless).
	waitMap bool
	// proc is init (cmd.Process, or hako-init's nsenter's grandchild).
	proc *Proc
	// plan is what init (hako-init) executes.
	plan *initplan.Plan
	// rlimitsBeforePlan: applied right after clone (initplan.RlimitsBeforePlan).
	rlimitsBeforePlan bool
	// cgAfterClone: the cgroup is created right after clone (see run).
	cgAfterClone bool
	// joined: init was moved into the cgroup before it asked.
	joined bool
}

// Create builds the container and leaves init waiting for Start. On
// failure it leaves nothing behind: no state dir, cgroup, mount or process.
func (rt *Runtime) Create(o CreateOpts) (*Container, error) {
	if err := spec.ValidateID(o.ID); err != nil {
		return nil, err
	}
	bundle, err := filepath.Abs(o.Bundle)
	if err != nil {
		return nil, err
	}
	s, raw, err := spec.LoadRaw(bundle)
	if err != nil {
		return nil, err
	}
	if s.Process != nil && s.Process.Terminal && o.ConsoleSocket == "" && o.Console == nil {
		return nil, errors.New("process.terminal is true: --console-socket is required to create a container with a terminal (or set terminal to false)")
	}
	if err := lsm.Check(s.Process); err != nil {
		return nil, err
	}
	cr := &creation{rt: rt, o: o, spec: s, specJSON: raw, bundle: bundle}
	c, err := cr.run()
	if err != nil {
		cr.undo()
		return nil, err
	}
	return c, nil
}

func (cr *creation) run() (*Container, error) {
	var err error
	if cr.dir, err = state.Create(cr.rt.Root, cr.o.ID); err != nil {
		return nil, err
	}
	if !cr.o.NoFifo {
		if err := cr.makeFifo(); err != nil {
			return nil, err
		}
	}
	if err := cr.makeCgroup(); err != nil {
		return nil, err
	}
	// Recorded right after clone: if this create is killed from here on,
	// `delete --force` finds init and the cgroup to remove.
	err = cr.spawn()
	var st *state.State
	if err == nil {
		st, err = cr.record(true)
	}
	if err == nil && cr.cgAfterClone {
		// v1: the cgroup is made now, while init builds its mounts in
		// parallel; init asks to join (sync message "cgroup") only once
		// everything else is mounted, and is moved in as soon as it is
		// primed, so that by the time it asks the answer is waiting. No
		// goroutine: one made here waited in the scheduler until clone
		// returned anyway, and the thread hand-offs cost more CPU than
		// they saved (measured).
		if err = cr.cg.Create(); err == nil {
			// Once init is primed (see initplan.Config.JoinWhenPrimed). A
			// failed send means init is gone: the handshake then reports
			// init's own error, not this one.
			if _, perr := cr.sync.Expect(syncproto.Primed, cr.rt.Log.Forward); perr != nil {
				err = cr.initErr(perr)
			} else if err = cr.cg.Apply(cr.proc.Pid); err == nil {
				cr.joined = cr.sync.Send(syncproto.Msg{Type: syncproto.CgroupDone}) == nil
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if err := cr.handshake(); err != nil {
		return nil, err
	}
	return cr.save(st)
}

// record saves state.json while the state directory still marks a create
// in progress (state.Create); save clears the mark, so state.json is
// written once per container.
func (cr *creation) record(creating bool) (*state.State, error) {
	pid := cr.proc.Pid
	start, err := state.StartTime(pid)
	if err != nil {
		return nil, fmt.Errorf("read start time of init %d: %w", pid, err)
	}
	st := &state.State{ID: cr.o.ID, Pid: pid, PidStart: start, Bundle: cr.bundle, Rootfs: cr.spec.Root.Path,
		Created: time.Now().UTC(), Owner: owner(), Annotations: cr.spec.Annotations, Spec: cr.spec, SpecJSON: cr.specJSON, Creating: creating}
	if cr.cg != nil {
		st.Cgroups = cr.cg.Paths()
	}
	return st, cr.rt.Log.Step("state save", cr.dir.Path+"/state.json (creating)", func() error { return cr.dir.Save(st) })
}

// makeFifo creates exec.fifo, mode 0622 so an init running as a mapped
// non-root uid can still open it for writing, and keeps an O_PATH handle
// for init to reopen.
func (cr *creation) makeFifo() error {
	p := cr.dir.Fifo()
	return cr.rt.Log.Step("mkfifo", p, func() error {
		if err := unix.Mkfifo(p, 0o622); err != nil {
			return err
		}
		if err := os.Chmod(p, 0o622); err != nil { // undo the umask
			return err
		}
		f, err := os.OpenFile(p, unix.O_PATH|unix.O_CLOEXEC, 0)
		cr.fifo = f
		return err
	})
}

func (cr *creation) makeCgroup() error {
	cfg := cgroups.Config{Path: cr.spec.Linux.CgroupsPath, ID: cr.o.ID, Resources: cr.spec.Linux.Resources,
		Rootless: cr.rt.Rootless, Systemd: cr.rt.SystemdCgroup, Annotations: cr.spec.Annotations}
	systemd := cgroups.UsesSystemd(cfg)
	if cfg.Rootless && cfg.Path == "" && !systemd {
		// A user never owns /hako; a delegated subtree (systemd's
		// user@UID.service on cgroup v2) is where the user's own cgroup is:
		// a relative path puts the container below it.
		cfg.Path = "hako-" + cr.o.ID
	}
	m, err := cgroups.New(cfg, cr.rt.Log)
	if err == nil && (systemd || !cfg.Rootless) && !m.ClonesInto() {
		// Made after clone, while init works (v1: init joins by
		// cgroup.procs anyway; systemd: a scope is started with init's
		// pid in it). Not rootless cgroupfs: there a failure to create
		// is a warning, and init must know before clone whether to join.
		cr.cg, cr.cgAfterClone = m, true
		return nil
	}
	if err == nil {
		err = m.Create()
	}
	if err != nil && cfg.Rootless && !systemd {
		if hasLimits(cfg.Resources) {
			return rootlessLimitsError(cfg.Resources, err)
		}
		// Nothing asked that needs a cgroup: run without one, as runc.
		cr.rt.Log.Note("cgroup", "rootless, none: "+err.Error())
		return nil
	}
	if err != nil {
		return err
	}
	if s := m.Skipped(); len(s) > 0 && hasLimits(cfg.Resources) {
		fmt.Fprintf(cr.rt.warnOut(), "hako: warning: rootless: cgroup controllers not usable by this user, their limits are not applied: %s\n", strings.Join(s, ", "))
	}
	cr.cg = m
	return nil
}

// rootlessLimitsError says why a rootless container cannot have the limits
// it asks for, and what to do. runc 1.1 fails the same way, saying less
// ("cannot set memory limit: container could not join or create cgroup");
// a limit silently dropped is worse than none asked for.
func rootlessLimitsError(r *specs.LinuxResources, err error) error {
	how := "on cgroup v2 a user gets limits only inside a subtree delegated to it (systemd's user@UID.service, " +
		"or systemd-run --user -p Delegate=yes --scope), with the controllers enabled there: run hako inside it, " +
		"or set linux.cgroupsPath to a cgroup in it"
	if !cgroups.IsV2Host() {
		how = "this host's cgroup v1 hierarchies belong to its root and none can be delegated to a user: " +
			"drop linux.resources (rootless podman drops limits itself on cgroup v1), run as real root, " +
			"or boot the host with cgroup v2 (systemd.unified_cgroup_hierarchy=1), where a user can be given a subtree"
	}
	return fmt.Errorf("rootless: linux.resources asks for %s, and this user may create no cgroup to apply it (%w): %s",
		describeLimits(r), err, how)
}

func hasLimits(r *specs.LinuxResources) bool { return describeLimits(r) != "(none asked)" }

// describeLimits names the limits a resources block asks for.
func describeLimits(r *specs.LinuxResources) string {
	if r == nil {
		return "(none asked)"
	}
	var l []string
	add := func(cond bool, name string) {
		if cond {
			l = append(l, name)
		}
	}
	add(r.Memory != nil, "memory")
	add(r.CPU != nil, "cpu")
	add(r.Pids != nil, "pids")
	add(r.BlockIO != nil, "blkio")
	add(len(r.HugepageLimits) > 0, "hugetlb")
	add(r.Network != nil, "network")
	add(len(r.Unified) > 0, "unified")
	for _, d := range r.Devices {
		if d.Allow {
			add(true, "devices")
			break
		}
	}
	if len(l) == 0 {
		return "(none asked)"
	}
	return strings.Join(l, ", ")
}

// handshake drives init through the sync protocol (see syncproto's table).
func (cr *creation) handshake() error {
	onTrace := cr.onTrace()
	if cr.joinByPid() {
		if _, err := cr.sync.Expect(syncproto.Cgroup, onTrace); err != nil {
			return cr.initErr(err)
		}
		if !cr.joined {
			if err := cr.cg.Apply(cr.proc.Pid); err != nil {
				return err
			}
			if err := cr.sync.Send(syncproto.Msg{Type: syncproto.CgroupDone}); err != nil {
				return err
			}
		}
	}
	if hasRuntimeHooks(cr.spec) {
		if _, err := cr.sync.Expect(syncproto.Hooks, onTrace); err != nil {
			return cr.initErr(err)
		}
		// "created", as crun reports and runtime-tools' hooks_stdin expects:
		// the container exists and its process is waiting.
		st := specs.State{Version: specs.Version, ID: cr.o.ID, Status: specs.StateCreated,
			Pid: cr.proc.Pid, Bundle: cr.bundle, Annotations: cr.spec.Annotations}
		if err := hooks.RunKind(cr.spec, "prestart", st, cr.rt.Log); err != nil {
			return err
		}
		if err := hooks.RunKind(cr.spec, "createRuntime", st, cr.rt.Log); err != nil {
			return err
		}
		if err := cr.sync.Send(syncproto.Msg{Type: syncproto.HooksDone}); err != nil {
			return err
		}
	}
	if len(cr.spec.Process.Rlimits) > 0 && !cr.rlimitsBeforePlan {
		if _, err := cr.sync.Expect(syncproto.Rlimits, onTrace); err != nil {
			return cr.initErr(err)
		}
		if err := setRlimits(cr.proc.Pid, cr.spec, cr.rt.Log); err != nil {
			return err
		}
		if err := cr.sync.Send(syncproto.Msg{Type: syncproto.RlimitsDone}); err != nil {
			return err
		}
	}
	_, err := cr.sync.Expect(syncproto.Ready, onTrace)
	return cr.initErr(err)
}

// setRlimits applies process.rlimits to init with prlimit(2) (see the
// protocol table in syncproto for when and why from the parent). They carry
// over init's execve to the program.
func setRlimits(pid int, s *specs.Spec, log *trace.Log) error {
	for _, r := range s.Process.Rlimits {
		res, err := spec.RlimitValue(r.Type)
		if err != nil {
			return err
		}
		lim := unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		if err := log.Step("prlimit", fmt.Sprintf("pid %d %s soft=%d hard=%d", pid, r.Type, r.Soft, r.Hard), func() error {
			return unix.Prlimit(pid, res, &lim, nil)
		}); err != nil {
			return err
		}
	}
	return nil
}

// joinByPid: init joins its cgroup (v1: cgroup.procs, written by hako) at
// sync message "cgroup", once it is primed and before the container is
// built, so the memory init touched to start is charged to hako's own
// cgroup, not to the container's limit. On v2 init is cloned straight into
// the cgroup instead (no migration at all).
func (cr *creation) joinByPid() bool {
	return cr.cg != nil && !cr.cmd.SysProcAttr.UseCgroupFD
}

// initErr turns "init went away" into something a person can act on.
func (cr *creation) initErr(err error) error {
	if !errors.Is(err, syncproto.ErrClosed) && !errors.Is(err, unix.ECONNRESET) {
		return err
	}
	ws := ""
	if st, werr := cr.proc.Wait(); werr == nil {
		ws = ": " + StatusString(st)
	}
	if cr.cg != nil {
		if n, _ := cr.cg.OOMKills(); n > 0 {
			return fmt.Errorf("container init was killed by the OOM killer while setting up%s: linux.resources.memory.limit %s is too low for the container's set-up (hako's init needs about 1 MiB)",
				ws, limitString(cr.spec))
		}
	}
	return fmt.Errorf("container init exited before it was ready%s (no error was reported; see its stderr above)", ws)
}

func limitString(s *specs.Spec) string {
	if r := s.Linux.Resources; r != nil && r.Memory != nil && r.Memory.Limit != nil {
		return fmt.Sprintf("%d bytes", *r.Memory.Limit)
	}
	return "(unset)"
}

func (cr *creation) onTrace() func(ev trace.Event) {
	if !cr.rt.Log.Enabled() {
		return nil
	}
	return cr.rt.Log.Forward
}

func hasRuntimeHooks(s *specs.Spec) bool {
	return len(hooks.Of(s, "prestart")) > 0 || len(hooks.Of(s, "createRuntime")) > 0
}

// save records the created container: pid file first, then state.json,
// whose presence marks create as finished.
func (cr *creation) save(st *state.State) (*Container, error) {
	if cr.o.PidFile != "" {
		if err := writePidFile(cr.o.PidFile, st.Pid); err != nil {
			return nil, err
		}
	}
	if err := cr.rt.Log.Step("state done", cr.dir.Path+" (chmod 0711: clear the sticky bit, create is done)", cr.dir.DoneCreating); err != nil {
		return nil, err
	}
	st.Creating = false
	if cr.fifo != nil {
		cr.fifo.Close()
	}
	c := &Container{rt: cr.rt, dir: cr.dir, State: st, Process: cr.proc, noFifo: cr.fifo == nil}
	if cr.rt.Log.Enabled() {
		// Keep listening: init's last steps (startContainer hooks, exec)
		// come after ready, and Start prints them if it runs in this process.
		c.initTrace = cr.sync
	} else {
		cr.sync.Close()
	}
	return c, nil
}

// writePidFile writes atomically: containerd reads the file as soon as it
// exists and must never see it empty.
func writePidFile(path string, pid int) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(fmt.Sprint(pid)), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	return os.Rename(tmp, path)
}

func owner() string {
	return fmt.Sprint(os.Geteuid())
}

// undo removes whatever a failed create made, in reverse order.
func (cr *creation) undo() {
	if cr.proc != nil {
		cr.proc.Kill()
		cr.proc.Wait()
	}
	if cr.sync != nil {
		cr.sync.Close()
	}
	if cr.cg != nil {
		if err := cr.cg.Destroy(); err != nil {
			fmt.Fprintln(os.Stderr, "hako: warning: cleaning up cgroup:", err)
		}
	}
	if cr.fifo != nil {
		cr.fifo.Close()
	}
	if cr.dir != nil {
		cr.dir.Remove()
	}
}
