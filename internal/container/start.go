package container

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"hako/internal/hooks"
	"hako/internal/state"
)

// Start releases a created container's init to exec the user program, then
// runs the poststart hooks (a failing one is a warning: the program runs).
func (c *Container) Start() error {
	if st := c.Status(); st != state.Created {
		return fmt.Errorf("cannot start container %s: it is %s, not created: %w", c.State.ID, st, ErrState)
	}
	if err := c.rt.Log.Step("start", "open exec.fifo", c.releaseInit); err != nil {
		return err
	}
	if err := hooks.RunKind(c.State.Spec, "poststart", c.hookState(state.Running), c.rt.Log); err != nil {
		c.warn("%v", err)
	}
	return nil
}

// releaseInit opens exec.fifo for reading, which unblocks init's open for
// writing, and waits for init's byte. Opened non-blocking and polled, so a
// dead init makes start fail instead of hang.
func (c *Container) releaseInit() error {
	f, err := os.OpenFile(c.dir.Fifo(), os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 100)
		if err != nil && err != unix.EINTR {
			return err
		}
		if n > 0 && fds[0].Revents&unix.POLLIN != 0 {
			break
		}
		if !c.State.Alive() {
			return fmt.Errorf("container init (pid %d) is gone", c.State.Pid)
		}
		time.Sleep(0)
	}
	var b [1]byte
	if _, err := unix.Read(int(f.Fd()), b[:]); err != nil {
		return err
	}
	return os.Remove(c.dir.Fifo())
}
