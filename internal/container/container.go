package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/cgroups"
	"hako/internal/spec"
	"hako/internal/state"
	"hako/internal/syncproto"
	"hako/internal/trace"
)

// ErrState is returned when a command does not fit the container's status
// (e.g. start on a running container).
var ErrState = errors.New("invalid container state")

// Runtime holds the options every command shares.
type Runtime struct {
	Root  string     // state root, e.g. /run/hako
	Log   *trace.Log // step log (--trace); may be nil
	Warn  io.Writer  // where warnings go (stderr)
	Trace bool       // pass tracing to init too
	// SystemdCgroup: --systemd-cgroup, containers go in systemd scope
	// units (cgroups.Config.Systemd).
	SystemdCgroup bool
	// Rootless: hako is not real root, or --rootless true said to act as
	// if (userns.Privilege.Decide): cgroups it may not create are skipped
	// when no limit needs them, and the container's cgroupfs is read-only.
	Rootless bool
	// InUserNS: hako itself runs in a user namespace that is not the
	// initial one (rootless podman): the container is then in one too,
	// whatever its config says, so devices are bind mounts, not mknod.
	InUserNS bool
}

// Container is a loaded container: its state dir and saved state.
type Container struct {
	rt    *Runtime
	dir   *state.Dir
	State *state.State
	// Process is init, when this process created it (foreground run waits
	// on it); nil for a container loaded from disk.
	Process *Proc
	// initTrace is the sync socket, kept open under --trace so Start can
	// print init's steps after ready.
	initTrace *syncproto.Conn
	// noFifo: created without exec.fifo (CreateOpts.NoFifo), in this
	// process: init is already on its way to exec.
	noFifo bool
}

// Load opens container id and locks it for the duration of the command.
func (rt *Runtime) Load(id string) (*Container, error) {
	return rt.load(id, true)
}

// View opens container id without the lock, for commands that only read
// (state, list): state.json is replaced atomically, so a reader sees a whole
// old or new state and never waits behind a slow create (hooks).
func (rt *Runtime) View(id string) (*Container, error) {
	return rt.load(id, false)
}

func (rt *Runtime) load(id string, lock bool) (*Container, error) {
	if err := spec.ValidateID(id); err != nil {
		return nil, err
	}
	d, err := state.Open(rt.Root, id)
	if err != nil {
		return nil, err
	}
	if !lock {
		st, err := d.Load()
		return &Container{rt: rt, dir: d, State: st}, err
	}
	if err := d.Lock(); err != nil {
		return nil, err
	}
	st, err := d.Load()
	if err != nil {
		d.Unlock()
		return nil, err
	}
	return &Container{rt: rt, dir: d, State: st}, nil
}

// Close releases the container's lock.
func (c *Container) Close() { c.dir.Unlock() }

// Relock takes the lock again after Close, for the same process to go on
// with the container it created (run deletes it after it exits) without
// reading state.json back.
func (c *Container) Relock() error { return c.dir.Lock() }

// Status derives the status from the live init process, never from disk:
// alive and exec.fifo present is created; alive and frozen is paused; alive
// is running; anything else is stopped. No state.json at all means create
// never finished.
func (c *Container) Status() state.Status {
	if c.State == nil {
		return state.Creating
	}
	if !c.State.Alive() {
		return state.Stopped
	}
	if c.State.Creating {
		return state.Creating
	}
	if _, err := os.Stat(c.dir.Fifo()); err == nil {
		return state.Created
	}
	if m := c.cgroup(); m != nil {
		if paused, _ := m.Paused(); paused {
			return state.Paused
		}
	}
	return state.Running
}

func (c *Container) cgroup() cgroups.Manager {
	if c.State == nil || len(c.State.Cgroups) == 0 {
		return nil
	}
	m, err := cgroups.Load(c.State.Cgroups, c.rt.Log)
	if err != nil {
		return nil
	}
	return m
}

// OCIState is the runtime-spec state, with the fields runc adds that
// containerd and podman read (rootfs, created, owner).
type OCIState struct {
	specs.State
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
	Owner   string    `json:"owner"`
}

// OCI returns the container's state as `hako state` prints it.
func (c *Container) OCI() OCIState {
	st := c.Status()
	s := OCIState{State: specs.State{Version: specs.Version, ID: idOf(c), Status: specs.ContainerState(st)}}
	if c.State == nil {
		return s
	}
	s.Bundle, s.Annotations = c.State.Bundle, c.State.Annotations
	s.Rootfs, s.Created, s.Owner = c.State.Rootfs, c.State.Created, c.State.Owner
	if st != state.Stopped {
		s.Pid = c.State.Pid
	}
	return s
}

func idOf(c *Container) string {
	if c.State != nil {
		return c.State.ID
	}
	return baseName(c.dir.Path)
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

func (c *Container) hookState(status state.Status) specs.State {
	return specs.State{Version: specs.Version, ID: c.State.ID, Status: specs.ContainerState(status),
		Pid: c.State.Pid, Bundle: c.State.Bundle, Annotations: c.State.Annotations}
}

func (rt *Runtime) warnOut() io.Writer {
	if rt.Warn == nil {
		return io.Discard
	}
	return rt.Warn
}

func (c *Container) warn(format string, args ...any) {
	if c.rt.Warn != nil {
		fmt.Fprintf(c.rt.Warn, "hako: warning: "+format+"\n", args...)
	}
}
