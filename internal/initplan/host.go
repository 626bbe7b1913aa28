package initplan

import (
	"os"
	"path/filepath"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/caps"
	"hako/internal/lsm"
)

// Host is what a plan depends on besides its Config: facts about this
// machine, probed once per container by ProbeHost and passed to Compile.
// Compile itself reads nothing from the system, so a config's plan can be
// compiled for a recorded host and compared in a test (testdata/golden).
type Host struct {
	// LastCap is the highest capability the kernel knows.
	LastCap uint64
	// Bounding: which of the capabilities the spec names are in hako's
	// own bounding set (bit n = capability n); those outside it cannot be
	// granted (caps.Restrict).
	Bounding uint64
	// SELinux: SELinux is enabled, so linux.mountLabel is also written
	// as an extended attribute where a mount takes no context= option.
	SELinux bool
	// Cgroups are the host's cgroup hierarchies a cgroup mount shows
	// (ContainerHierarchies), or why they could not be read;
	// probed only when the spec has a cgroup mount.
	Cgroups    []*mountinfo.Info
	CgroupsErr error
	// Sources are the bind mounts' sources by absolute path: a directory
	// or not (the mount point made to match), or why they cannot be read.
	Sources map[string]Source
}

// Source is what ProbeHost found at a bind mount's source.
type Source struct {
	Dir bool
	Err error
}

// ProbeHost reads the Host facts c's plan depends on.
func ProbeHost(c Config) (Host, error) {
	h, err := ProbeExecHost(c.Spec.Process)
	if err != nil {
		return h, err
	}
	h.Sources = map[string]Source{}
	s := c.Spec
	if s.Linux != nil && s.Linux.MountLabel != "" {
		h.SELinux = lsm.SELinuxEnabled()
	}
	probedCgroups := false
	for i := range s.Mounts {
		m := &s.Mounts[i]
		switch {
		case IsBind(m):
			src := bindSource(c, m)
			fi, err := os.Stat(src)
			h.Sources[src] = Source{Dir: err == nil && fi.IsDir(), Err: err}
		case m.Type == "sysfs" && c.UserNS:
			// The bind of the host's /sys a user namespace may need
			// instead (sysfsOrBind).
			fi, err := os.Stat("/sys")
			h.Sources["/sys"] = Source{Dir: err == nil && fi.IsDir(), Err: err}
		case (m.Type == "cgroup" || m.Type == "cgroup2") && !probedCgroups:
			h.Cgroups, h.CgroupsErr = ContainerHierarchies()
			probedCgroups = true
		}
	}
	return h, nil
}

// ProbeExecHost reads the Host facts a CompileExec plan for p depends on:
// the capabilities only (no mounts are made).
func ProbeExecHost(p *specs.Process) (Host, error) {
	h := Host{LastCap: caps.LastCap()}
	if p == nil {
		return h, nil
	}
	set, err := caps.Parse(p.Capabilities)
	if err != nil {
		return h, nil // Compile reports it, naming the capability
	}
	h.Bounding, err = set.Bounding()
	return h, err
}

// bindSource is m's source as an absolute path (a relative one is relative
// to the bundle).
func bindSource(c Config, m *specs.Mount) string {
	if filepath.IsAbs(m.Source) {
		return m.Source
	}
	return filepath.Join(c.Bundle, m.Source)
}
