package container

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"hako/internal/state"
)

// Kill sends sig to the container's init, or with all to every process in
// its cgroup. The signal goes through a pidfd opened and then checked
// against the recorded start time, so a recycled pid is never signalled.
func (c *Container) Kill(sig unix.Signal, all bool) error {
	st := c.Status()
	if st == state.Stopped && all {
		// runc signals what is left in a stopped container's cgroup and
		// succeeds. containerd's WithProcessKill sends exactly this (SIGKILL,
		// all) before deleting a task, e.g. the CRI plugin on every exit.
		if m := c.cgroup(); m != nil {
			if pids, err := m.Pids(); err == nil && len(pids) > 0 {
				return c.rt.Log.Step("kill", fmt.Sprintf("all processes left in cgroup, %s", unix.SignalName(sig)), func() error {
					return m.Kill(sig)
				})
			}
		}
		return nil
	}
	if st == state.Stopped || st == state.Creating {
		// "container not running" is runc's wording, and containerd's shim
		// matches that text (checkKillError) to tell "already exited" from
		// a failed kill.
		return fmt.Errorf("cannot kill container %s: container not running (it is %s): %w", idOf(c), st, ErrState)
	}
	if all {
		if m := c.cgroup(); m != nil {
			return c.rt.Log.Step("kill", fmt.Sprintf("all processes in cgroup, %s", unix.SignalName(sig)), func() error {
				return m.Kill(sig)
			})
		}
	}
	return c.rt.Log.Step("kill", fmt.Sprintf("pid %d %s", c.State.Pid, unix.SignalName(sig)), func() error {
		return c.signal(sig)
	})
}

func (c *Container) signal(sig unix.Signal) error {
	fd, err := unix.PidfdOpen(c.State.Pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil
		}
		return err
	}
	defer unix.Close(fd)
	if !c.State.Alive() {
		return nil
	}
	// ESRCH: init exited after the pidfd was opened, e.g. killed through
	// its cgroup a moment before (delete --force's killAll). Gone is what
	// a kill asks for; an error here once left delete without removing
	// the cgroup (found by vm-test).
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return err
	}
	return nil
}

// waitGone waits until init has exited (or timeout passes), using a pidfd,
// which becomes readable when the process exits, even if not our child.
func (c *Container) waitGone(timeout time.Duration) error {
	fd, err := unix.PidfdOpen(c.State.Pid, 0)
	if err != nil {
		return nil // already gone
	}
	defer unix.Close(fd)
	if !c.State.Alive() {
		return nil
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 100)
		if n > 0 || !c.State.Alive() {
			return nil
		}
		if err != nil && err != unix.EINTR {
			return err
		}
	}
	return fmt.Errorf("container %s: init %d still alive after %s", idOf(c), c.State.Pid, timeout)
}
