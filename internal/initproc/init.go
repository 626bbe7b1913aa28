package initproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"

	"golang.org/x/sys/unix"

	"hako/internal/lsm"
	"hako/internal/nsenter"
	"hako/internal/seccomp"
	"hako/internal/syncproto"
	"hako/internal/trace"
)

// Main is `hako init`. It never returns: it execs the user program or exits.
//
// It locks itself to its OS thread first: every per-thread attribute init
// sets (capabilities, no_new_privs, seccomp, the time and cgroup namespaces
// for children) must be on the thread that finally calls execve. Only init
// locks: in the CLI a locked main goroutine would cost a thread hand-off
// (two context switches) each time it blocks.
func Main() {
	runtime.LockOSThread()
	if os.Getenv(syncproto.EnvWaitMap) != "" {
		reexecAfterMap()
	}
	// Non-dumpable until execve: processes already in the container (exec
	// joins a running one) can neither ptrace init nor open its /proc
	// files, fds and memory (CVE-2016-9962). execve of the user program
	// makes it dumpable again, as any program.
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	// A session of its own (for the controlling terminal), also when the
	// hako-init's nsenter forked init off the session leader hako started.
	unix.Setsid()
	conn, err := fdFromEnv(syncproto.EnvSync, "sync socket")
	if err != nil {
		fmt.Fprintln(os.Stderr, "hako init:", err)
		os.Exit(1)
	}
	sync := syncproto.New(conn)
	defer func() {
		// A bug in init must still reach the user as an error, not as EOF.
		if r := recover(); r != nil {
			sync.SendError(fmt.Errorf("init panicked: %v\n%s", r, debug.Stack()))
			os.Exit(2)
		}
	}()
	p, err := start(sync)
	if err == nil {
		err = p.run()
	}
	// Reaching here means a step failed (run only returns on error). After
	// ready hako no longer listens (a send may still land in the socket's
	// buffer, unread): the error goes to stderr too, as the plan executor
	// does for its late steps.
	if sendErr := sync.SendError(err); sendErr != nil || (p != nil && p.ready) {
		fmt.Fprintln(os.Stderr, "hako init:", err)
	}
	os.Exit(1)
}

// reexecAfterMap waits for the parent's byte saying the ID maps are written,
// then executes hako init again (see syncproto.EnvWaitMap).
func reexecAfterMap() {
	fd, err := strconv.Atoi(os.Getenv(syncproto.EnvSync))
	var b [1]byte
	if err == nil {
		_, err = unix.Read(fd, b[:])
	}
	if err == nil {
		os.Unsetenv(syncproto.EnvWaitMap)
		err = unix.Exec("/proc/self/exe", os.Args, os.Environ())
	}
	fmt.Fprintln(os.Stderr, "hako init: waiting for ID maps:", err)
	os.Exit(1)
}

// proc is init's working state.
type proc struct {
	cfg  syncproto.InitConfig
	sync *syncproto.Conn
	log  *trace.Log
	fifo chan fifoResult
	// fifoW is kept referenced so no finalizer closes it before execve.
	fifoW *os.File
	// filter is the compiled linux.seccomp, if any.
	filter        *seccomp.Program
	seccompLoaded bool
	// attrs are the open exec attribute files (see openExecAttrs).
	attrs map[lsm.Module]*os.File
	// ready: init told the parent it is ready, which stops listening.
	ready bool
}

func start(sync *syncproto.Conn) (*proc, error) {
	m, err := sync.Expect(syncproto.Config, nil)
	if err != nil {
		return nil, err
	}
	p := &proc{sync: sync}
	if err := json.Unmarshal(m.Config, &p.cfg); err != nil {
		return nil, fmt.Errorf("decode init config: %w", err)
	}
	// hako's original timer slack, for this (locked, exec-ing) thread and
	// the hooks init runs; the Go runtime's other threads keep the 4 ms
	// hako gives its own (nsenter/timerslack.go).
	if p.cfg.TimerSlack >= 0 {
		nsenter.SetTimerSlack(p.cfg.TimerSlack)
		_ = unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(p.cfg.TimerSlack), 0, 0, 0)
	}
	var sink trace.Sink
	if p.cfg.Trace {
		sink = func(ev trace.Event) { _ = sync.Send(syncproto.Msg{Type: syncproto.Trace, Event: &ev}) }
	}
	p.log = trace.New("init", sink)
	return p, nil
}

func fdFromEnv(name, what string) (*os.File, error) {
	v := os.Getenv(name)
	if v == "" {
		return nil, fmt.Errorf("%s not set: `hako init` is run by hako, not by hand", name)
	}
	os.Unsetenv(name)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("%s=%q: bad fd", name, v)
	}
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), what), nil
}

// optionalFd is fdFromEnv for fds that are only sometimes passed.
func optionalFd(name, what string) (*os.File, error) {
	if os.Getenv(name) == "" {
		return nil, nil
	}
	return fdFromEnv(name, what)
}

type fifoResult struct {
	f   *os.File
	err error
}

// waitFifoAsync starts opening exec.fifo for writing, which blocks until
// `hako start` opens it for reading. It reopens the O_PATH fd the parent
// passed through the magic link in /proc/self/fd, so init needs no search
// permission on the state directory. The fd directory is opened now, while
// the host's /proc is visible; the blocking open relative to it may run
// after pivot_root or chroot and still finds it.
func (p *proc) waitFifoAsync() error {
	f, err := optionalFd(syncproto.EnvFifo, "exec.fifo")
	if err != nil || f == nil {
		return err
	}
	dir, err := os.OpenFile("/proc/self/fd", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &trace.StepError{Step: "open", Operands: "/proc/self/fd", Err: err}
	}
	p.fifo = make(chan fifoResult, 1)
	go func() {
		defer dir.Close()
		defer f.Close()
		fd, err := unix.Openat(int(dir.Fd()), strconv.Itoa(int(f.Fd())), unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			p.fifo <- fifoResult{nil, err}
			return
		}
		p.fifo <- fifoResult{os.NewFile(uintptr(fd), "exec.fifo"), nil}
	}()
	return nil
}

// waitStart blocks until `hako start`, then tells it init is going ahead.
// The fifo stays open (close-on-exec) so start sees it close at execve.
func (p *proc) waitStart() error {
	if p.fifo == nil {
		return nil
	}
	r := <-p.fifo
	if r.err != nil {
		return &trace.StepError{Step: "wait for start", Operands: "exec.fifo", Err: r.err}
	}
	p.fifoW = r.f
	if _, err := r.f.Write([]byte{0}); err != nil {
		return &trace.StepError{Step: "wait for start", Operands: "exec.fifo", Err: err}
	}
	return nil
}

// warn tells the user, through the parent, that something was not applied
// as asked.
func (p *proc) warn(format string, args ...any) {
	_ = p.sync.Send(syncproto.Msg{Type: syncproto.Warning, Text: fmt.Sprintf(format, args...)})
}

var errNoProcess = errors.New("config has no process")
