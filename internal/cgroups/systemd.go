package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/systemd"
	"hako/internal/trace"
)

// The systemd cgroup driver (--systemd-cgroup). systemd owns the cgroup
// tree on a systemd host: a process that writes its own directories there
// is moved or undone by systemd later (daemon-reload, a slice's limits).
// The container's init is put into a transient scope unit instead, made
// over D-Bus with Delegate=yes, so the subtree below the scope is hako's:
// systemd sets what it models (MemoryMax, CPUWeight, TasksMax, ...), and
// hako writes everything else through cgroupfs into the scope's directory,
// as runc does. cgroup v2 only (see docs/cgroups.md).

// Keys of Paths that are not controllers: a saved systemd manager.
const (
	keyUnit = "@systemd-unit" // the scope's unit name
	keyBus  = "@systemd-bus"  // "system" or "user"
)

// jobTimeout bounds every wait for a systemd job (runc waits 30 s too).
const jobTimeout = 30 * time.Second

// ErrSystemdV1: the systemd driver on a host without a unified hierarchy.
var ErrSystemdV1 = errors.New("the systemd cgroup driver needs a cgroup v2 host (systemd.unified_cgroup_hierarchy=1); on this cgroup v1 host use the cgroupfs driver (no --systemd-cgroup, a cgroupsPath such as /hako/<id>)")

// unitSpec is where a container's scope goes.
type unitSpec struct {
	slice string // e.g. system.slice
	unit  string // e.g. docker-<id>.scope
	user  bool   // the calling user's systemd instance
}

// IsSystemdPath reports whether cgroupsPath has the systemd form
// "slice:prefix:name".
func IsSystemdPath(p string) bool {
	return strings.Count(p, ":") == 2 && !strings.Contains(p, "/")
}

// SystemdAvailable reports whether systemd runs this host (sd_booted(3)).
func SystemdAvailable() bool {
	_, err := os.Stat("/run/systemd/system")
	return err == nil
}

// parseUnit turns cgroupsPath into the scope's unit and slice, as runc:
// "" is <default slice>:hako:<id>; an empty slice is the default one
// (system.slice, or user.slice in a user's instance).
func parseUnit(path, id string, user bool) (unitSpec, error) {
	u := unitSpec{slice: "system.slice", user: user}
	if user {
		u.slice = "user.slice"
	}
	prefix, name := "hako", id
	if path != "" {
		parts := strings.Split(path, ":")
		if len(parts) != 3 {
			return u, fmt.Errorf("linux.cgroupsPath %q: the systemd cgroup driver expects \"slice:prefix:name\", e.g. \"system.slice:hako:%s\"", path, id)
		}
		if parts[0] != "" {
			u.slice = parts[0]
		}
		prefix, name = parts[1], parts[2]
	}
	if _, err := expandSlice(u.slice); err != nil {
		return u, fmt.Errorf("linux.cgroupsPath %q: %w", path, err)
	}
	if name == "" {
		return u, fmt.Errorf("linux.cgroupsPath %q: the name part is empty", path)
	}
	if strings.HasSuffix(name, ".slice") {
		return u, fmt.Errorf("linux.cgroupsPath %q: a container goes in a scope; a name ending in .slice is not supported", path)
	}
	u.unit = name + ".scope"
	if prefix != "" {
		u.unit = prefix + "-" + u.unit
	}
	for _, c := range u.unit {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(":-_.\\", c)) {
			return u, fmt.Errorf("linux.cgroupsPath %q: %q is not a valid unit name (letters, digits and \":-_.\\\" only)", path, u.unit)
		}
	}
	return u, nil
}

// expandSlice gives a slice's cgroup path: systemd nests a-b-c.slice in
// a.slice/a-b.slice/ (systemd.slice(5)); "-.slice" is the root.
func expandSlice(slice string) (string, error) {
	name, ok := strings.CutSuffix(slice, ".slice")
	if !ok || name == "" || strings.Contains(slice, "/") {
		return "", fmt.Errorf("%q is not a slice name (it must end in .slice, e.g. system.slice)", slice)
	}
	if name == "-" {
		return "/", nil
	}
	var path, prefix string
	for _, part := range strings.Split(name, "-") {
		if part == "" {
			return "", fmt.Errorf("%q is not a valid slice name (empty part between dashes)", slice)
		}
		path += "/" + prefix + part + ".slice"
		prefix += part + "-"
	}
	return path, nil
}

// sdManager is a container's scope unit; the cgroupfs work in its
// directory is done by a manager over that one cgroup2 directory.
type sdManager struct {
	u       unitSpec
	id      string
	res     *specs.LinuxResources
	extra   []systemd.Property // org.systemd.property.* annotations
	fs      *manager
	conn    *systemd.Conn
	log     *trace.Log
	started bool // the unit exists: Apply only joins it
	// owned: this process had systemd make the unit (its job may still
	// have failed). Until then Destroy touches nothing: the name may be
	// another container's unit (UnitExists).
	owned bool
}

// newSystemd builds the driver for cfg on layout l. It creates nothing;
// for a user's instance it asks systemd where the user's tree is.
func newSystemd(cfg Config, l layout, log *trace.Log) (*sdManager, error) {
	if l.unified == nil || len(l.v1) > 0 && hasV1Controllers(l) {
		return nil, ErrSystemdV1
	}
	u, err := parseUnit(cfg.Path, cfg.ID, cfg.Rootless)
	if err != nil {
		return nil, err
	}
	extra, err := annotationProps(cfg.Annotations)
	if err != nil {
		return nil, err
	}
	m := &sdManager{u: u, id: cfg.ID, res: cfg.Resources, extra: extra, log: log}
	base := ""
	if u.user {
		if base, err = m.userRoot(); err != nil {
			return nil, err
		}
	}
	slice, _ := expandSlice(u.slice)
	dir := filepath.Join(l.unified.point, base, slice, u.unit)
	// rootless: device rules that only a privileged process may attach
	// (BPF) are skipped, as with cgroupfs; the user's devices are the
	// user's anyway.
	m.fs = &manager{paths: map[string]string{"": dir}, mounts: map[string]string{}, res: cfg.Resources, log: log,
		attach: attachDeviceFilter, rootless: cfg.Rootless}
	return m, nil
}

func hasV1Controllers(l layout) bool {
	for c := range l.v1 {
		if c != "name=systemd" {
			return true
		}
	}
	return false
}

// loadSystemd rebuilds the driver of a created container from its Paths.
func loadSystemd(paths map[string]string, log *trace.Log) *sdManager {
	user := paths[keyBus] == "user"
	fs := &manager{paths: map[string]string{"": paths[""]}, log: log, attach: attachDeviceFilter, rootless: user}
	return &sdManager{u: unitSpec{unit: paths[keyUnit], user: user}, fs: fs, log: log, started: true}
}

// conns are this process's connections, one per instance (system, user):
// `run` creates and deletes through two managers, one connection.
var conns = map[bool]*systemd.Conn{}

// dial opens the one connection this process uses, on first need.
func (m *sdManager) dial() (*systemd.Conn, error) {
	if m.conn != nil {
		return m.conn, nil
	}
	if c := conns[m.u.user]; c != nil {
		m.conn = c
		return c, nil
	}
	which := "system"
	if m.u.user {
		which = "user"
	}
	uid := systemd.HostUID()
	err := m.log.Step("systemd connect", fmt.Sprintf("%s instance as uid %d", which, uid), func() (err error) {
		if m.conn, err = systemd.Dial(m.u.user, uid); err != nil {
			return err
		}
		return m.conn.Subscribe()
	})
	if err == nil {
		conns[m.u.user] = m.conn
	}
	if err != nil {
		if m.conn != nil {
			m.conn.Close()
			m.conn = nil
		}
		if m.u.user {
			return nil, fmt.Errorf("%w (a rootless container with --systemd-cgroup needs the user's systemd instance: a login session, or `loginctl enable-linger %d`)", err, uid)
		}
		return nil, err
	}
	return m.conn, nil
}

// userRoot asks the user's systemd instance for its own cgroup, under
// which its slices are (e.g. /user.slice/user-1000.slice/user@1000.service).
func (m *sdManager) userRoot() (string, error) {
	c, err := m.dial()
	if err != nil {
		return "", err
	}
	var v any
	err = m.log.Step("systemd get", "Manager.ControlGroup (where the user's instance keeps its slices)", func() (err error) {
		v, err = c.ManagerProperty("ControlGroup")
		return err
	})
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", fmt.Errorf("the user's systemd instance did not say where its cgroup is (Manager.ControlGroup = %v)", v)
	}
	return s, nil
}

// Create connects to systemd; the unit itself is made by the first Apply,
// which knows init's pid (a scope cannot exist without a process).
func (m *sdManager) Create() error {
	_, err := m.dial()
	return err
}

// Apply starts the scope with pid in it, or, once it exists, moves pid
// into it (exec).
func (m *sdManager) Apply(pid int) error {
	if m.started {
		return m.fs.Apply(pid)
	}
	if err := m.start(pid); err != nil {
		return err
	}
	m.started = true
	// What systemd does not model, and the exact values of what it
	// rounds (CPUQuota is in whole percents), through cgroupfs.
	rest, devices := filesLeft(m.res, m.u.user)
	if rest == nil {
		return nil
	}
	return m.fs.set(rest, devices)
}

func (m *sdManager) start(pid int) error {
	c, err := m.dial()
	if err != nil {
		return err
	}
	props := append(m.unitProps(pid), resourceProps(m.res, m.u.user)...)
	props = append(props, m.extra...)
	err = m.startUnit(c, props)
	if systemd.IsError(err, "org.freedesktop.systemd1.UnitExists") {
		// A failed unit of an earlier container by this name: forget it
		// and try once more.
		_ = c.ResetFailedUnit(m.u.unit)
		err = m.startUnit(c, props)
		if systemd.IsError(err, "org.freedesktop.systemd1.UnitExists") {
			return fmt.Errorf("systemd unit %s already exists: another container (or one not deleted) uses this cgroupsPath; `systemctl%s stop %s` removes it", m.u.unit, m.userFlag(), m.u.unit)
		}
	}
	return err
}

func (m *sdManager) startUnit(c *systemd.Conn, props []systemd.Property) error {
	var job systemd.ObjectPath
	// The properties are traced on a line of their own: an error names
	// the unit and systemd's reason, not the whole list.
	if m.log.Enabled() {
		m.log.Note("systemd properties", describeProps(props))
	}
	err := m.log.Step("systemd start unit", m.u.unit+" in "+m.u.slice, func() (err error) {
		job, err = c.StartTransientUnit(m.u.unit, props)
		return err
	})
	if err != nil {
		return err
	}
	m.owned = true
	return m.waitJob(c, job, "start")
}

// waitJob waits for a job and turns a result other than "done" into one
// error that says what to look at.
func (m *sdManager) waitJob(c *systemd.Conn, job systemd.ObjectPath, verb string) error {
	var res string
	err := m.log.Step("systemd job", string(job)+" ("+verb+" "+m.u.unit+")", func() (err error) {
		res, err = c.WaitJob(job, jobTimeout)
		return err
	})
	if err != nil {
		return fmt.Errorf("systemd did not finish the job to %s unit %s in slice %s: %w; check `systemctl%s status %s`", verb, m.u.unit, m.u.slice, err, m.userFlag(), m.u.unit)
	}
	if res != "done" {
		return fmt.Errorf("systemd could not %s unit %s in slice %s: job result %q; check `systemctl%s status %s` and `journalctl%s -u %s`",
			verb, m.u.unit, m.u.slice, res, m.userFlag(), m.u.unit, m.userFlag(), m.u.unit)
	}
	return nil
}

func (m *sdManager) userFlag() string {
	if m.u.user {
		return " --user"
	}
	return ""
}

// unitProps are the scope's own properties, as runc sets them.
func (m *sdManager) unitProps(pid int) []systemd.Property {
	return []systemd.Property{
		systemd.Prop("Description", "s", "hako container "+m.id),
		systemd.Prop("Slice", "s", m.u.slice),
		systemd.Prop("PIDs", "au", []any{uint32(pid)}),
		systemd.Prop("Delegate", "b", true),
		systemd.Prop("DefaultDependencies", "b", false),
		// A scope that failed (the OOM killer ended its init) is unloaded
		// when it stops, rather than kept in state "failed" forever
		// (systemd.unit(5), CollectMode=; runc left such units behind).
		systemd.Prop("CollectMode", "s", "inactive-or-failed"),
		systemd.Prop("MemoryAccounting", "b", true),
		systemd.Prop("CPUAccounting", "b", true),
		systemd.Prop("IOAccounting", "b", true),
		systemd.Prop("TasksAccounting", "b", true),
	}
}

// Set changes the unit's properties, then the files: systemd and the
// kernel agree, so a daemon-reload later does not undo an update.
func (m *sdManager) Set(r *specs.LinuxResources) error {
	if props := resourceProps(r, m.u.user); len(props) > 0 {
		c, err := m.dial()
		if err != nil {
			return err
		}
		if m.log.Enabled() {
			m.log.Note("systemd properties", describeProps(props))
		}
		if err := m.log.Step("systemd set properties", m.u.unit, func() error {
			return c.SetUnitProperties(m.u.unit, props)
		}); err != nil {
			return err
		}
	}
	return m.fs.set(r, false)
}

// Destroy stops the unit and makes sure systemd keeps nothing of it (not
// even a failed unit), then removes what is left of the directory.
func (m *sdManager) Destroy() error {
	if !m.started && !m.owned {
		return nil // never made by this container
	}
	if _, err := os.Stat(m.fs.paths[""]); os.IsNotExist(err) {
		// Its last process exited and systemd stopped it: removing a
		// scope's cgroup is part of stopping it, and CollectMode
		// unloads it, failed or not. No need to ask.
		m.log.Note("systemd unit gone", m.u.unit+" (its cgroup is gone)")
		return nil
	}
	c, err := m.dial()
	if err != nil {
		return err
	}
	var job systemd.ObjectPath
	gone := false
	err = m.log.Step("systemd stop unit", m.u.unit, func() (err error) {
		job, err = c.StopUnit(m.u.unit)
		if systemd.IsError(err, "org.freedesktop.systemd1.NoSuchUnit") {
			// its last process exited and systemd collected it
			gone, err = true, nil
		}
		return err
	})
	if err != nil {
		return err
	}
	if !gone {
		if err := m.waitJob(c, job, "stop"); err != nil {
			return err
		}
		_ = m.log.Step("systemd reset-failed", m.u.unit, func() error {
			err := c.ResetFailedUnit(m.u.unit)
			if systemd.IsError(err, "org.freedesktop.systemd1.NoSuchUnit") {
				return nil
			}
			return err
		})
	}
	return m.fs.Destroy()
}

func (m *sdManager) Paths() map[string]string {
	p := m.fs.Paths()
	p[keyUnit] = m.u.unit
	p[keyBus] = "system"
	if m.u.user {
		p[keyBus] = "user"
	}
	return p
}

func (m *sdManager) CgroupFD() (int, error)     { return -1, nil }
func (m *sdManager) ClonesInto() bool           { return false }
func (m *sdManager) Pids() ([]int, error)       { return m.fs.Pids() }
func (m *sdManager) Freeze() error              { return m.fs.Freeze() }
func (m *sdManager) Thaw() error                { return m.fs.Thaw() }
func (m *sdManager) Paused() (bool, error)      { return m.fs.Paused() }
func (m *sdManager) Kill(sig unix.Signal) error { return m.fs.Kill(sig) }
func (m *sdManager) Stats() (*Stats, error)     { return m.fs.Stats() }
func (m *sdManager) OOMKills() (uint64, error)  { return m.fs.OOMKills() }
func (m *sdManager) Skipped() []string          { return nil }
