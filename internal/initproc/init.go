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

	"hako/internal/syncproto"
	"hako/internal/trace"
)

func init() {
	// Called from an init function, this keeps main() on the main thread:
	// every per-thread attribute init sets (capabilities, no_new_privs,
	// seccomp, the time namespace for children) must be on the thread that
	// finally calls execve.
	runtime.LockOSThread()
}

// Main is `hako init`. It never returns: it execs the user program or exits.
func Main() {
	conn, err := fdFromEnv(EnvSync, "sync socket")
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
	// Reaching here means a step failed (run only returns on error).
	if sendErr := sync.SendError(err); sendErr != nil {
		fmt.Fprintln(os.Stderr, "hako init:", err)
	}
	os.Exit(1)
}

// proc is init's working state.
type proc struct {
	cfg  Config
	sync *syncproto.Conn
	log  *trace.Log
	fifo chan fifoResult
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
// passed through /proc/self/fd, so init needs no search permission on the
// state directory, and does it now, while the host's /proc is still there.
func (p *proc) waitFifoAsync() error {
	f, err := optionalFd(EnvFifo, "exec.fifo")
	if err != nil || f == nil {
		return err
	}
	p.fifo = make(chan fifoResult, 1)
	path := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	go func() {
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		f.Close()
		p.fifo <- fifoResult{w, err}
	}()
	return nil
}

// waitStart blocks until `hako start`, then tells it init is going ahead.
func (p *proc) waitStart() error {
	if p.fifo == nil {
		return nil
	}
	r := <-p.fifo
	if r.err != nil {
		return &trace.StepError{Step: "wait for start", Operands: "exec.fifo", Err: r.err}
	}
	defer r.f.Close()
	if _, err := r.f.Write([]byte{0}); err != nil {
		return &trace.StepError{Step: "wait for start", Operands: "exec.fifo", Err: err}
	}
	return nil
}

var errNoProcess = errors.New("config has no process")
