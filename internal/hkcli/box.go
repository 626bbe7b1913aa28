package hkcli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"hako/internal/box"
	"hako/internal/container"
	"hako/internal/hkuserns"
	"hako/internal/image"
	"hako/internal/monitor"
	"hako/internal/state"
	"hako/internal/trace"
	"hako/internal/userns"
)

// boxes is what the container verbs share: the container store, the
// runtime (in-process, its state under --runroot/runtime, so the
// runtime's own `hako list` never shows hk's containers) and the step log.
type boxes struct {
	env   *Env
	store *box.Store
	log   *trace.Log
	priv  userns.Privilege
	is    *image.Store // opened once per command (each Open commits)
	warn  io.Writer    // the runtime's warnings (nil: stderr)
	// noNetWhy: why rootless hk could give this container no network.
	noNetWhy error
}

func openBoxes(env *Env) (*boxes, error) {
	if env.Root == "" || env.RunRoot == "" {
		return nil, errors.New("no storage or run root: set HOME and XDG_RUNTIME_DIR, or pass --root and --runroot")
	}
	s, err := box.NewStore(env.Root)
	if err != nil {
		return nil, err
	}
	b := &boxes{env: env, store: s, priv: userns.Detect()}
	if env.Trace {
		b.log = trace.New("hk", trace.Writer(os.Stderr))
		s.Log = b.log
	}
	return b, nil
}

// enterUserNS: rootless, the verbs that mount or own files as other IDs
// than the user's run as uid 0 of a namespace mapping the subuid range
// (hkuserns). Real root goes on as it is.
func (b *boxes) enterUserNS() error {
	if err := hkuserns.Enter(b.log); err != nil {
		return err
	}
	b.priv = userns.Detect()
	return nil
}

func (b *boxes) rootless() bool { return b.priv.Rootless() }

func (b *boxes) runtime() *container.Runtime {
	warn := b.warn
	if warn == nil {
		warn = os.Stderr
	}
	return &container.Runtime{Root: filepath.Join(b.env.RunRoot, "runtime"), Log: b.log, Warn: warn,
		Trace: b.env.Trace, Rootless: b.priv.Rootless(), InUserNS: b.priv.InUserNS}
}

// get finds a container by name or ID (prefix), with Docker's error.
func (b *boxes) get(ref string) (*box.Container, error) {
	c, err := b.store.Get(ref)
	if errors.Is(err, box.ErrNotFound) {
		return nil, fmt.Errorf("no such container: %s", ref)
	}
	return c, err
}

func (b *boxes) dir(c *box.Container) string { return b.store.CtrDir(c.ID) }

func (b *boxes) exitFile(c *box.Container) string { return filepath.Join(b.dir(c), "exit") }
func (b *boxes) logFile(c *box.Container) string  { return filepath.Join(b.dir(c), "ctr.log") }
func (b *boxes) pidFile(c *box.Container) string  { return filepath.Join(b.dir(c), "pid") }

// Status is a container's state as Docker names it, derived from the live
// process (the runtime's state), never trusted from the record alone.
type Status struct {
	State    string // created, running, paused, exited
	Pid      int
	ExitCode int
	Started  time.Time
	Finished time.Time
	// Runtime: the runtime has state for it (live or stopped).
	Runtime bool
}

// status reads, in this order: the runtime's state (a live init is
// running or paused, whatever the record says), the exit file (init has
// exited; its monitor may not have recorded it yet), the record.
func (b *boxes) status(c *box.Container) Status {
	st := Status{State: c.State, ExitCode: c.ExitCode, Started: c.StartedAt, Finished: c.FinishedAt}
	if rc, err := b.runtime().View(c.ID); err == nil && rc.State != nil {
		st.Runtime, st.Started = true, rc.State.Created
		switch rc.Status() {
		case state.Running, state.Created, state.Creating:
			st.State, st.Pid = "running", rc.State.Pid
			return st
		case state.Paused:
			st.State, st.Pid = "paused", rc.State.Pid
			return st
		}
		st.State, st.ExitCode = "exited", -1 // its monitor died before writing the exit file
	}
	if ex, err := monitor.ReadExit(b.exitFile(c)); err == nil {
		st.State, st.ExitCode, st.Finished = "exited", ex.Code, ex.At
	}
	return st
}

// images is the image store, opened on first use and kept for the
// command (the store opens its database per transaction).
func (b *boxes) images() (*image.Store, error) {
	if b.is != nil {
		return b.is, nil
	}
	is, err := image.Open(b.env.Root)
	if err == nil {
		is.Log = b.log
	}
	b.is = is
	return is, err
}

// self is how hk runs itself as a child: the program, argv0 "hk", the
// global flags.
func (b *boxes) self(args ...string) (path string, argv []string, err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	argv = []string{"hk", "--root", b.env.Root, "--runroot", b.env.RunRoot}
	if b.env.Trace {
		argv = append(argv, "--trace")
	}
	return exe, append(argv, args...), nil
}

// pull runs `hk pull REF` (the payload) as a child, as `docker run` pulls
// an image it does not have.
func (b *boxes) pull(ref string) error {
	exe, argv, err := b.self("pull", ref)
	if err != nil {
		return err
	}
	cmd := &exec.Cmd{Path: exe, Args: argv, Stdout: os.Stderr, Stderr: os.Stderr}
	fmt.Fprintf(os.Stderr, "Unable to find image '%s' locally\n", ref)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	return nil
}

// finishExit records a container's exit (read from its exit file), removes
// its runtime state (and so its cgroup), unmounts its root, and removes
// it altogether if it was run with --rm. Run by hako-mon (`_exited`) and
// by a foreground run.
//
// The runtime's state goes last: whoever waits for a container to be done
// (stop, restart) waits for it to be gone, and by then the root is
// unmounted and the record says exited.
func (b *boxes) finishExit(id string) error {
	c, err := b.store.Get(id)
	if errors.Is(err, box.ErrNotFound) {
		return nil // removed meanwhile (rm -f)
	}
	if err != nil {
		return err
	}
	if c.Opts.Rm {
		return b.remove(c)
	}
	st := b.status(c)
	if err := box.UnmountRootfs(b.log, b.dir(c)); err != nil {
		return err
	}
	if err := b.unpublish(c); err != nil {
		return err
	}
	if err := b.netDown(c); err != nil {
		return err
	}
	_, err = b.store.Update(id, func(r *box.Container) error {
		r.State, r.ExitCode, r.StartedAt, r.FinishedAt = box.Exited, st.ExitCode, st.Started.UTC(), st.Finished.UTC()
		if st.Finished.IsZero() {
			r.FinishedAt = time.Now().UTC()
		}
		return nil
	})
	if err != nil && !errors.Is(err, box.ErrNotFound) {
		return err
	}
	return b.deleteRuntime(c.ID)
}

// deleteRuntime removes the runtime's state of a container, killing what
// is left of it; none is fine.
func (b *boxes) deleteRuntime(id string) error {
	rc, err := b.runtime().Load(id)
	if errors.Is(err, os.ErrNotExist) || err != nil && strings.Contains(err.Error(), "does not exist") {
		return nil
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	return rc.Delete(true)
}

// lock serializes the commands that start or remove container c (two
// `start`s at once must not both find it stopped): an flock on a file in
// its directory, released by the returned func (and by the kernel if hk
// dies). A container whose directory is gone needs no lock.
func (b *boxes) lock(c *box.Container) (func(), error) {
	f, err := os.OpenFile(filepath.Join(b.dir(c), "lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := b.log.Step("flock", f.Name(), func() error { return unix.Flock(int(f.Fd()), unix.LOCK_EX) }); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// remove deletes a stopped container: runtime state, mount, directory,
// image hold, record, in an order in which a SIGKILL at any point leaves
// something the next `rm` finishes (every step is a no-op when done).
func (b *boxes) remove(c *box.Container) error {
	unlock, err := b.lock(c)
	if err != nil {
		return err
	}
	defer unlock()
	if err := b.deleteRuntime(c.ID); err != nil {
		return err
	}
	if err := b.detach(c); err != nil {
		return err
	}
	dir := b.dir(c)
	if err := box.UnmountRootfs(b.log, dir); err != nil {
		return err
	}
	if err := b.log.Step("remove", dir, func() error { return os.RemoveAll(dir) }); err != nil {
		return err
	}
	if c.ImageID != "" {
		if is, err := b.images(); err == nil {
			is.Release(c.ImageID, c.ID)
		}
	}
	err = b.store.Remove(c.ID)
	if errors.Is(err, box.ErrNotFound) {
		return nil
	}
	return err
}

// parseSignal reads Docker's signal names: KILL, SIGKILL, 9.
func parseSignal(s string) (unix.Signal, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if n, err := strconv.Atoi(s); err == nil {
		if n > 0 && n < 65 {
			return unix.Signal(n), nil
		}
		return 0, fmt.Errorf("invalid signal: %s", s)
	}
	if !strings.HasPrefix(s, "SIG") {
		s = "SIG" + s
	}
	if sig := unix.SignalNum(s); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal: %s", s)
}

// forwardSignals passes the signals hk gets on to pid until stop is
// closed (a foreground run or exec).
func forwardSignals(pid int) (stop func()) {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				unix.Kill(pid, s.(syscall.Signal))
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(sigs); close(done) }
}

// exitCodeOf maps a failure to start the container's program to Docker's
// exit codes: 127 not found, 126 cannot be run, else 125.
func exitCodeOf(err error) int {
	var re *monitor.ReportError
	if errors.As(err, &re) && re.Code != 0 {
		return re.Code
	}
	s := err.Error()
	// The runtime looks the program up in the container's root before
	// it execs ("lookup PROG: ..."), so its errors say which case it is.
	lookup := strings.Contains(s, "lookup ") || strings.Contains(s, "exec")
	switch {
	case lookup && (strings.Contains(s, "ENOENT") || strings.Contains(s, "not found") || strings.Contains(s, "no such file")):
		return 127
	case lookup && (strings.Contains(s, "EACCES") || strings.Contains(s, "permission denied") ||
		strings.Contains(s, "exec format error") || strings.Contains(s, "is a directory")):
		return 126
	}
	return 125
}

// codedError is an error with its exit status (Main prints it and exits
// with the code).
type codedError struct {
	err  error
	code int
}

func (e codedError) Error() string { return e.err.Error() }
func (e codedError) Unwrap() error { return e.err }
