package cgroups

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// freezeTimeout bounds the wait for the kernel to report a cgroup frozen.
var freezeTimeout = 10 * time.Second

// freezer returns the cgroup that freezes: the v1 freezer hierarchy if
// mounted, else the cgroup2 directory (cgroup.freeze is core, Linux 5.2).
func (m *manager) freezer() (c cg, v2 bool, err error) {
	if d, ok := m.paths["freezer"]; ok {
		return cg{dir: d, log: m.log}, false, nil
	}
	if d, ok := m.paths[""]; ok {
		return cg{dir: d, log: m.log}, true, nil
	}
	return cg{}, false, fmt.Errorf("%w: freezer", ErrNoController)
}

func (m *manager) Freeze() error {
	c, v2, err := m.freezer()
	if err != nil {
		return err
	}
	if v2 {
		return freezeV2(c)
	}
	return freezeV1(c)
}

func (m *manager) Thaw() error {
	c, v2, err := m.freezer()
	if err != nil {
		return err
	}
	if v2 {
		return c.write("cgroup.freeze", "0")
	}
	return c.write("freezer.state", "THAWED")
}

func (m *manager) Paused() (bool, error) {
	c, v2, err := m.freezer()
	if err != nil {
		return false, err
	}
	if v2 {
		return frozenV2(c)
	}
	s, err := c.read("freezer.state")
	return s == "FROZEN", err
}

// freezeV1 writes FROZEN until freezer.state reads FROZEN rather than
// FREEZING (cgroup-v1/freezer-subsystem.rst). A freeze can stall on a task
// the kernel cannot stop yet (vfork parent, ptrace); as runc does, thaw
// and try again now and then, and give up after freezeTimeout.
func freezeV1(c cg) error {
	deadline := time.Now().Add(freezeTimeout)
	for i := 1; time.Now().Before(deadline); i++ {
		if i%50 == 0 {
			_ = c.write("freezer.state", "THAWED")
			time.Sleep(10 * time.Millisecond)
		}
		if err := c.write("freezer.state", "FROZEN"); err != nil {
			return err
		}
		s, err := c.read("freezer.state")
		if err != nil || s == "FROZEN" {
			return err
		}
		time.Sleep(time.Millisecond)
	}
	_ = c.write("freezer.state", "THAWED")
	return fmt.Errorf("freeze %s: %w", c.dir, ErrFreezeTimeout)
}

// freezeV2 writes cgroup.freeze and waits for cgroup.events to say
// "frozen 1": the write only starts the freeze (cgroup-v2.rst, "Core
// Interface Files").
func freezeV2(c cg) error {
	if err := c.write("cgroup.freeze", "1"); err != nil {
		return err
	}
	delay := time.Millisecond
	for deadline := time.Now().Add(freezeTimeout); time.Now().Before(deadline); {
		frozen, err := frozenV2(c)
		if err != nil || frozen {
			return err
		}
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
	_ = c.write("cgroup.freeze", "0")
	return fmt.Errorf("freeze %s: %w", c.dir, ErrFreezeTimeout)
}

func frozenV2(c cg) (bool, error) {
	ev, err := c.keyed("cgroup.events")
	return ev["frozen"] == 1, err
}

// Kill signals every process. SIGKILL goes through cgroup.kill where the
// kernel has it (5.14): one write, no race with forks. Otherwise the cgroup
// is frozen while its pids are listed and signalled, so no child escapes;
// a frozen process gets the signal when thawed.
func (m *manager) Kill(sig unix.Signal) error {
	if d, ok := m.paths[""]; ok && sig == unix.SIGKILL && m.populatedV2(d) {
		if c := (cg{dir: d, log: m.log}); c.has("cgroup.kill") {
			return c.write("cgroup.kill", "1")
		}
	}
	frozen := m.Freeze() == nil
	err := m.signalAll(sig)
	if frozen {
		err = errors.Join(err, m.Thaw())
	}
	return err
}

// populatedV2 checks that the container's processes are in the cgroup2
// directory before trusting cgroup.kill with them: on a hybrid host an
// Apply that skipped cgroup2 would leave it empty.
func (m *manager) populatedV2(dir string) bool {
	if !m.hasV1() {
		return true
	}
	ev, err := (cg{dir: dir}).keyed("cgroup.events")
	return err == nil && ev["populated"] == 1
}

func (m *manager) signalAll(sig unix.Signal) error {
	pids, err := m.Pids()
	if err != nil {
		return err
	}
	var errs []error
	for _, pid := range pids {
		err := m.log.Step("kill", strconv.Itoa(pid)+" "+unix.SignalName(sig), func() error {
			return unix.Kill(pid, sig)
		})
		if err != nil && !errors.Is(err, unix.ESRCH) { // exited meanwhile
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
