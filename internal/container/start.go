package container

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"hako/internal/hooks"
	"hako/internal/state"
)

// Start releases a created container's init to exec the user program, then
// runs the poststart hooks (a failing one is a warning: the program runs).
func (c *Container) Start() error {
	if c.noFifo {
		c.noFifo = false
	} else {
		if st := c.Status(); st != state.Created {
			err := fmt.Errorf("cannot start container %s: it is %s, not created: %w", c.State.ID, st, ErrState)
			if why := c.exited("before start"); why != "" {
				err = fmt.Errorf("%w: %s", err, why)
			}
			return err
		}
		if err := c.rt.Log.Step("start", "open exec.fifo", c.releaseInit); err != nil {
			return err
		}
		if why := c.exited("at once"); why != "" {
			c.warn("%s", why)
		}
	}
	if c.initTrace != nil {
		// Init's last steps, until its execve closes the socket.
		c.initTrace.Expect("", c.rt.Log.Forward)
		c.initTrace.Close()
		c.initTrace = nil
	}
	if err := hooks.RunAll(c.State.Spec, "poststart", c.hookState(state.Running), c.rt.Log); err != nil {
		c.warn("%v", err)
	}
	return nil
}

// releaseInit opens exec.fifo for reading, which unblocks init's open for
// writing, and waits for init's byte. Opened non-blocking and polled, so a
// dead init makes start fail instead of hang.
func (c *Container) releaseInit() error {
	// A raw fd: an *os.File of a non-blocking fifo would be registered
	// with the runtime's poller, for nothing (poll(2) below waits).
	fd, err := unix.Open(c.dir.Fifo(), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: c.dir.Fifo(), Err: err}
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 100)
		if err != nil && err != unix.EINTR {
			return err
		}
		if n > 0 && fds[0].Revents&unix.POLLIN != 0 {
			break
		}
		if !c.State.Alive() {
			if why := c.exited("during start-up, before it ran the program"); why != "" {
				return errors.New(why)
			}
			return fmt.Errorf("the container's process (pid %d) exited during start-up, before it ran the program", c.State.Pid)
		}
	}
	var b [1]byte
	if _, err := unix.Read(fd, b[:]); err != nil {
		return err
	}
	if err := unix.Unlink(c.dir.Fifo()); err != nil {
		return &os.PathError{Op: "remove", Path: c.dir.Fifo(), Err: err}
	}
	return c.waitExec(fd)
}

// exited describes how init ended when it is a zombie whose parent has not
// reaped it yet and it failed; "" otherwise (running, reaped, or exit 0: a
// program may well finish at once). A program that dies at once often
// said why where nobody reads: systemd writes to /dev/console, which a
// container without a terminal does not have.
func (c *Container) exited(when string) string {
	ws, ok := c.State.ExitStatus()
	if !ok || ws.Exited() && ws.ExitStatus() == 0 {
		return ""
	}
	if ws.Signaled() {
		return fmt.Sprintf("the container's process (pid %d) was killed by %s %s", c.State.Pid, unix.SignalName(ws.Signal()), when)
	}
	return fmt.Sprintf("the container's process (pid %d) exited %s with status %d; if it printed nothing, "+
		"it may have had nowhere to write (systemd writes to /dev/console, which only a container with a terminal has): "+
		"run it with a terminal (process.terminal, -t) to see its messages", c.State.Pid, when, ws.ExitStatus())
}

// waitExec waits for init's write end of the fifo to close, which happens at
// its execve (the fd is close-on-exec) or its death. So when start returns,
// the user program runs, and a signal sent right after start reaches the
// program and its handlers, not hako-init.
func (c *Container) waitExec(fd int) error {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 100)
		if err != nil && err != unix.EINTR {
			return err
		}
		if n > 0 && fds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0 {
			return nil
		}
		if !c.State.Alive() {
			return nil
		}
	}
}
