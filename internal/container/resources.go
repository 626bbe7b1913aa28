package container

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/cgroups"
	"hako/internal/state"
)

// ErrNoCgroup is returned for cgroup operations on a container that has none
// (e.g. a rootless container without a delegated cgroup).
var ErrNoCgroup = errors.New("container has no cgroup")

func (c *Container) mustCgroup() (cgroups.Manager, error) {
	m := c.cgroup()
	if m == nil {
		return nil, fmt.Errorf("container %s: %w", idOf(c), ErrNoCgroup)
	}
	return m, nil
}

// Pause freezes every process of a running container.
func (c *Container) Pause() error {
	if st := c.Status(); st != state.Running && st != state.Created {
		return fmt.Errorf("cannot pause container %s: it is %s: %w", idOf(c), st, ErrState)
	}
	m, err := c.mustCgroup()
	if err != nil {
		return err
	}
	return c.rt.Log.Step("freeze", idOf(c), m.Freeze)
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	if st := c.Status(); st != state.Paused {
		return fmt.Errorf("cannot resume container %s: it is %s, not paused: %w", idOf(c), st, ErrState)
	}
	m, err := c.mustCgroup()
	if err != nil {
		return err
	}
	return c.rt.Log.Step("thaw", idOf(c), m.Thaw)
}

// Update applies new resource limits and records them in the saved spec, so
// a later `update` or `events` sees the limits in force.
func (c *Container) Update(r *specs.LinuxResources) error {
	if st := c.Status(); st == state.Stopped || st == state.Creating {
		return fmt.Errorf("cannot update container %s: it is %s: %w", idOf(c), st, ErrState)
	}
	m, err := c.mustCgroup()
	if err != nil {
		return err
	}
	if err := m.Set(r); err != nil {
		return err
	}
	if c.State.Spec.Linux != nil {
		c.State.Spec.Linux.Resources = mergeResources(c.State.Spec.Linux.Resources, r)
	}
	return c.dir.Save(c.State)
}

// mergeResources overlays the fields update sets on the old resources.
func mergeResources(old, upd *specs.LinuxResources) *specs.LinuxResources {
	if old == nil {
		return upd
	}
	out := *old
	if upd.Memory != nil {
		out.Memory = upd.Memory
	}
	if upd.CPU != nil {
		out.CPU = upd.CPU
	}
	if upd.Pids != nil {
		out.Pids = upd.Pids
	}
	if upd.BlockIO != nil {
		out.BlockIO = upd.BlockIO
	}
	if len(upd.Devices) > 0 {
		out.Devices = upd.Devices
	}
	if len(upd.Unified) > 0 {
		out.Unified = upd.Unified
	}
	return &out
}

// Stats reads the container's cgroup statistics.
func (c *Container) Stats() (*cgroups.Stats, error) {
	m, err := c.mustCgroup()
	if err != nil {
		return nil, err
	}
	return m.Stats()
}

// OOMKills counts the processes the kernel's OOM killer ended in the
// container's cgroup (0 if it has none).
func (c *Container) OOMKills() uint64 {
	if m := c.cgroup(); m != nil {
		n, _ := m.OOMKills()
		return n
	}
	return 0
}

// Pids lists every process in the container.
func (c *Container) Pids() ([]int, error) {
	m, err := c.mustCgroup()
	if err != nil {
		return nil, err
	}
	return m.Pids()
}

// MemoryLimit is the configured memory limit in bytes, or 0.
func (c *Container) MemoryLimit() int64 {
	s := c.State.Spec
	if s == nil || s.Linux == nil || s.Linux.Resources == nil || s.Linux.Resources.Memory == nil || s.Linux.Resources.Memory.Limit == nil {
		return 0
	}
	return *s.Linux.Resources.Memory.Limit
}
