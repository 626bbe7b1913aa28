package container

import (
	"errors"
	"fmt"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/cgroups"
	"hako/internal/state"
)

// ErrNoCgroup is returned for cgroup operations on a container that has none
// (e.g. a rootless container without a delegated cgroup).
var ErrNoCgroup = errors.New("container has no cgroup")

func (c *Container) mustCgroup() (cgroups.Manager, error) {
	m := c.cgroup()
	if m == nil && c.rt.Rootless {
		return nil, fmt.Errorf("container %s: %w: hako runs rootless and this user could create none for it "+
			"(no cgroup v2 subtree is delegated to it), so it cannot be paused, limited or measured", idOf(c), ErrNoCgroup)
	}
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
	if err := c.live("update"); err != nil {
		return err
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

// Event is one line of `hako events`, shaped like runc's types.Event.
type Event struct {
	Type string         `json:"type"` // "stats" or "oom"
	ID   string         `json:"id"`
	Data *cgroups.Stats `json:"data,omitempty"`
}

// oomPoll is how often Events reads the OOM-kill counter and checks that
// init lives: two small file reads, cheap at 10 Hz, and an oom event then
// trails the kill by at most this much.
const oomPoll = 100 * time.Millisecond

// StatsEvent reads the container's counters as one stats event. Like runc
// it refuses a stopped container, whose counters no longer mean anything
// (and whose cgroup a foreground run has already removed).
func (c *Container) StatsEvent() (Event, error) {
	if err := c.live("read stats of"); err != nil {
		return Event{}, err
	}
	s, err := c.Stats()
	if err != nil {
		return Event{}, err
	}
	return Event{Type: "stats", ID: idOf(c), Data: s}, nil
}

// Events emits a stats event every interval and an oom event each time the
// cgroup's OOM-kill counter grows, until init exits or emit fails. It runs
// as long as the container does, so it must not hold the state lock (kill
// and delete would wait for it): open c with View, or Events releases the
// lock of a Load.
func (c *Container) Events(interval time.Duration, emit func(Event) error) error {
	if interval <= 0 {
		return fmt.Errorf("events: interval %s: must be positive", interval)
	}
	if err := c.live("watch"); err != nil {
		return err
	}
	m, err := c.mustCgroup()
	if err != nil {
		return err
	}
	c.Close()
	id := idOf(c)
	ooms, _ := m.OOMKills() // only kills from now on are news
	poll, tick := time.NewTicker(oomPoll), time.NewTicker(interval)
	defer poll.Stop()
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			s, err := m.Stats()
			if err != nil && !c.State.Alive() {
				return nil // stopped (and maybe deleted) while we read
			}
			if err != nil {
				return fmt.Errorf("events %s: %w", id, err)
			}
			if err := emit(Event{Type: "stats", ID: id, Data: s}); err != nil {
				return err
			}
		case <-poll.C:
			// Liveness before the counter: the kernel counts an OOM kill as
			// it sends the SIGKILL, well before the victim has exited, so
			// a kill that ended init still gets its event.
			alive := c.State.Alive()
			if n, err := m.OOMKills(); err == nil && n > ooms {
				ooms = n
				if err := emit(Event{Type: "oom", ID: id}); err != nil {
					return err
				}
			}
			if !alive {
				return nil
			}
		}
	}
}

// live fails for a container that has stopped or never finished create.
func (c *Container) live(verb string) error {
	if st := c.Status(); st == state.Stopped || st == state.Creating {
		return fmt.Errorf("cannot %s container %s: it is %s: %w", verb, idOf(c), st, ErrState)
	}
	return nil
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
