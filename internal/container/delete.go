package container

import (
	"fmt"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/hooks"
	"hako/internal/state"
)

// Delete removes a stopped (or created) container: its processes, cgroup and
// state directory, then runs poststop hooks. With force it first kills a
// running or paused container.
func (c *Container) Delete(force bool) error {
	st := c.Status()
	switch st {
	case state.Running, state.Paused:
		if !force {
			return fmt.Errorf("cannot delete container %s that is %s (stop it first, or use --force): %w", idOf(c), st, ErrState)
		}
		fallthrough
	case state.Created, state.Creating:
		// Creating seen under the lock means create died midway.
		if c.State != nil {
			if err := c.killAll(st == state.Paused); err != nil {
				return err
			}
		}
	}
	// The cgroup, then the state directory, both only after every process
	// is gone. (In parallel they cost more CPU in thread hand-offs than
	// the state directory's few unlinks take.)
	if m := c.cgroup(); m != nil {
		if err := c.rt.Log.Step("cgroup destroy", "", m.Destroy); err != nil {
			return err
		}
	}
	var hookState specs.State
	if c.State != nil {
		hookState = c.hookState(state.Stopped)
	}
	err := c.dir.Remove()
	if c.State != nil {
		if herr := hooks.RunAll(c.State.Spec, "poststop", hookState, c.rt.Log); herr != nil {
			c.warn("%v", herr)
		}
	}
	return err
}

// killAll SIGKILLs everything in the container and waits for init to go.
func (c *Container) killAll(paused bool) error {
	m := c.cgroup()
	if m != nil {
		if err := m.Kill(unix.SIGKILL); err != nil {
			c.warn("kill cgroup: %v", err)
		}
		if paused {
			// A frozen task dies only once thawed.
			if err := m.Thaw(); err != nil {
				c.warn("thaw: %v", err)
			}
		}
	}
	if err := c.signal(unix.SIGKILL); err != nil {
		return fmt.Errorf("kill init %d: %w", c.State.Pid, err)
	}
	return c.waitGone(10 * time.Second)
}
