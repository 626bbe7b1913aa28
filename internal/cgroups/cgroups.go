package cgroups

import (
	"errors"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/trace"
)

// Config says where a container's cgroup goes and what it limits.
type Config struct {
	// Path is linux.cgroupsPath: "" means "/hako/<ID>"; an absolute path is
	// taken from each hierarchy's root; a relative one goes under the
	// runtime's own cgroup, as runc does. With Systemd it is
	// "slice:prefix:name" ("" is "system.slice:hako:<ID>"); that form
	// without Systemd is refused (ErrSystemdPath) unless systemd runs the
	// host, which then takes it.
	Path string
	// Systemd selects the systemd driver (--systemd-cgroup): the
	// container goes in a transient scope unit (see systemd.go). With
	// Rootless, the calling user's systemd instance.
	Systemd bool
	// Annotations are the config's; org.systemd.property.* ones become
	// unit properties under the systemd driver.
	Annotations map[string]string
	// ID is the container id, used for the default path.
	ID string
	// Resources is linux.resources; nil asks for no limits.
	Resources *specs.LinuxResources
	// Rootless makes a hierarchy whose directory cannot be created
	// (EACCES, EPERM, EROFS) non-fatal when no limit needs it: the manager
	// goes on without it and Skipped names its controllers. Device rules
	// that cannot be applied are skipped too.
	Rootless bool
}

// Manager is one container's cgroup, in every hierarchy the host has.
type Manager interface {
	// Create makes the cgroup in every hierarchy and applies the resources
	// and device rules; on failure it removes the directories it made.
	Create() error
	// Apply moves pid into the cgroup in every hierarchy (cgroup.procs).
	Apply(pid int) error
	// CgroupFD returns an fd of the cgroup2 directory for CLONE_INTO_CGROUP
	// (SysProcAttr.UseCgroupFD); the caller closes it. It returns -1, nil
	// when the main hierarchy is v1 (any v1 controller in use): the caller
	// must then use Apply, which covers every hierarchy.
	CgroupFD() (int, error)
	// ClonesInto reports whether CgroupFD gives an fd (a pure cgroup2
	// cgroup): the cgroup must then exist before clone. Otherwise init
	// joins with Apply, and Create may run while init starts.
	ClonesInto() bool
	// Set updates the resources (runc update). Device rules are replaced
	// only when r.Devices is not empty.
	Set(r *specs.LinuxResources) error
	// Pids lists every process in the cgroup and its descendants.
	Pids() ([]int, error)
	// Freeze stops every process and returns once the kernel says frozen.
	Freeze() error
	// Thaw resumes the processes Freeze stopped.
	Thaw() error
	// Paused reports whether the cgroup is frozen.
	Paused() (bool, error)
	// Kill signals every process in the cgroup.
	Kill(sig unix.Signal) error
	// Destroy removes the cgroup (and any child cgroups) from every
	// hierarchy; it kills nothing and is fine if the cgroup is gone.
	Destroy() error
	// Stats reads usage counters, shaped like runc's `events --stats`.
	Stats() (*Stats, error)
	// OOMKills counts the processes the OOM killer killed in the cgroup.
	OOMKills() (uint64, error)
	// Paths maps each controller to its directory ("" for the cgroup2
	// directory); Load takes it back.
	Paths() map[string]string
	// Skipped names the controllers left out by a rootless Create.
	Skipped() []string
}

var (
	// ErrSystemdPath: cgroupsPath has the systemd driver's form.
	ErrSystemdPath = errors.New("a systemd cgroup path (slice:prefix:name) needs the systemd cgroup driver, and systemd does not run this host: use a cgroupfs path such as /hako/<id>")
	// ErrNoController: a limit needs a controller the host does not offer
	// to this cgroup (not mounted in v1, not enabled in v2).
	ErrNoController = errors.New("cgroup controller not available")
	// ErrUnifiedOnV1: linux.resources.unified on a host whose main hierarchy
	// is cgroup v1 (runc refuses it the same way).
	ErrUnifiedOnV1 = errors.New("linux.resources.unified needs a cgroup v2 host")
	// ErrFreezeTimeout: the kernel did not report the cgroup frozen in time.
	ErrFreezeTimeout = errors.New("cgroup did not freeze in time")
)

// New detects the host's layout from /proc/self/mountinfo and
// /proc/self/cgroup and returns the manager for cfg. It creates nothing.
func New(cfg Config, log *trace.Log) (Manager, error) {
	l, err := hostLayout()
	if err != nil {
		return nil, err
	}
	if UsesSystemd(cfg) {
		return newSystemd(cfg, l, log)
	}
	m, err := newManager(cfg, l, log)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Load rebuilds a manager from the Paths of an earlier one, for the verbs
// that run in a later process (kill, delete, pause, update, events).
func Load(paths map[string]string, log *trace.Log) (Manager, error) {
	if len(paths) == 0 {
		return nil, errors.New("load cgroup: no paths saved")
	}
	if paths[keyUnit] != "" {
		return loadSystemd(paths, log), nil
	}
	m := &manager{paths: map[string]string{}, log: log, attach: attachDeviceFilter}
	for k, v := range paths {
		m.paths[k] = v
	}
	return m, nil
}

// IsV2Host reports whether /sys/fs/cgroup is a cgroup2 mount: a pure
// unified host, as opposed to v1 or hybrid.
func IsV2Host() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// UsesSystemd reports whether New gives cfg the systemd driver: asked for,
// or a systemd-form path on a host that systemd runs.
func UsesSystemd(cfg Config) bool {
	return cfg.Systemd || (IsSystemdPath(cfg.Path) && SystemdAvailable())
}
