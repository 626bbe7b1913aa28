package rootfs

import (
	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// What internal/initplan needs to compile the same set-up as Builder: the
// decisions stay here, in one place, for both inits.

// Propagation maps rootfsPropagation and mount option names to MS_* flags.
func Propagation(name string) (uintptr, bool) { f, ok := propagation[name]; return f, ok }

// PropName names MS_* propagation flags.
func PropName(f uintptr) string { return propName(f) }

// IsBind reports whether m is a bind mount (type bind or option (r)bind).
func IsBind(m *specs.Mount) bool { return isBind(m) }

// MountDesc renders "type on dest (opts)" as traces and errors show it.
func MountDesc(m *specs.Mount) string { return mountDesc(m) }

// ParentMount finds the mount point holding path and whether it is shared.
func ParentMount(path string) (string, bool, error) { return parentMount(path) }

// ContainerHierarchies lists the host hierarchies a cgroup mount shows.
func ContainerHierarchies() ([]*mountinfo.Info, error) { return containerHierarchies() }

// FreshCgroup reports whether hierarchy h is mounted fresh, not bound.
func FreshCgroup(cgroupNS, userNS bool, h *mountinfo.Info) bool {
	return freshCgroup(cgroupNS, userNS, h)
}

// CgroupV1Opts keeps the controller names of a v1 mount's super options.
func CgroupV1Opts(super string) string { return cgroupV1Opts(super) }

// DevType maps a device type letter to S_IF*.
func DevType(t string) (uint32, error) { return devType(t) }

// LockedFlags are the flags a less privileged mount namespace may not clear.
const LockedFlags = lockedFlags
