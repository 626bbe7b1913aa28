package initplan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"

	"hako/internal/procself"
)

// The host's cgroup hierarchies as a container's cgroup mount shows them
// (mountCgroup): a pure v2 host's one tree, else a tmpfs with one mount
// per v1 hierarchy, each showing only the container's own cgroup: a fresh
// cgroup mount when the container has a cgroup namespace (the namespace
// root is its cgroup), else a bind of its cgroup directory. The tmpfs
// itself stays writable, as runc leaves it: only the hierarchies take
// "ro". A rootless container's tmpfs stays writable as well (runc's): it
// is the container's own, and systemd as PID 1 makes its symlinks there;
// every cgroup mount on it is read-only (roCgroup).

// roCgroup reports whether a cgroup mount is forced read-only: rootless
// without a cgroup namespace of its own, where the mount shows cgroups
// that are not the container's (CVE-2023-25809, runc's rule). With one,
// the namespace's root is the container's own delegated cgroup, which
// systemd in a rootless system container must be able to write.
func roCgroup(rootless, cgroupNS bool) bool { return rootless && !cgroupNS }

// freshCgroup reports whether hierarchy h is mounted fresh in the container
// rather than bound from the host: always with a cgroup namespace (its root
// is the container's cgroup), and, as runc does, a pure v2 host's cgroup2
// without one (the whole hierarchy, so that /proc/self/cgroup's path is
// there: systemd as PID 1 with --cgroupns=host needs it). Not in a user
// namespace of its own without a cgroup namespace: the kernel refuses that
// mount, and the container's own cgroup is bound instead.
func freshCgroup(cgroupNS, userNS bool, h *mountinfo.Info) bool {
	return cgroupNS || !userNS && h.FSType == "cgroup2" && h.Mountpoint == "/sys/fs/cgroup"
}

// cgroupV1Opts keeps the controller names (and name=) of a v1 mount's
// super options, dropping rw/ro which the mount flags carry.
func cgroupV1Opts(super string) string {
	var keep []string
	for _, o := range strings.Split(super, ",") {
		if o != "rw" && o != "ro" {
			keep = append(keep, o)
		}
	}
	return strings.Join(keep, ",")
}

// hostHierarchies lists the host's cgroup mounts under /sys/fs/cgroup.
func hostHierarchies() ([]*mountinfo.Info, error) {
	mi, err := procself.Mountinfo()
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	all, err := mountinfo.GetMountsFromReader(bytes.NewReader(mi), nil)
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	var ms []*mountinfo.Info
	for n, i := range all {
		ok := (i.FSType == "cgroup" || i.FSType == "cgroup2") &&
			(i.Mountpoint == "/sys/fs/cgroup" || strings.HasPrefix(i.Mountpoint, "/sys/fs/cgroup/"))
		if ok && !hidden(all, n) {
			ms = append(ms, i)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no cgroup filesystem is mounted under /sys/fs/cgroup")
	}
	return ms, nil
}

// ContainerHierarchies is what a cgroup mount shows of hostHierarchies: all
// of a pure v2 host's one tree, else only the v1 hierarchies, as runc
// mounts them. A hybrid host's cgroup2 tree (/sys/fs/cgroup/unified) stays
// out: systemd in the container, seeing a cgroup2 superblock there, would
// choose its hybrid mode and fail to mkdir in it (read-only, or not its
// own) instead of running in legacy mode on the v1 hierarchies.
func ContainerHierarchies() ([]*mountinfo.Info, error) {
	hier, err := hostHierarchies()
	if err != nil {
		return nil, err
	}
	return v1Only(hier), nil
}

// v1Only drops the cgroup2 mounts from hier when it has a v1 one.
func v1Only(hier []*mountinfo.Info) []*mountinfo.Info {
	var v1 []*mountinfo.Info
	for _, h := range hier {
		if h.FSType == "cgroup" {
			v1 = append(v1, h)
		}
	}
	if len(v1) == 0 {
		return hier
	}
	return v1
}

// hidden reports whether mount n cannot be reached by path: another
// mount is stacked on it (same point, it as parent), or one it is reached
// through is (see cgroups.visibleMounts). rootlesskit mounts a new /sys,
// and cgroup2 on it, over the host's; the old entries stay listed.
func hidden(all []*mountinfo.Info, n int) bool {
	byID := map[int]*mountinfo.Info{}
	for _, m := range all {
		byID[m.ID] = m
	}
	stacked := func(m *mountinfo.Info) bool {
		for _, o := range all {
			if o.Parent == m.ID && o.Mountpoint == m.Mountpoint && o.ID != m.ID {
				return true
			}
		}
		return false
	}
	m := all[n]
	if stacked(m) {
		return true
	}
	for depth := 0; depth < len(all); depth++ {
		p := byID[m.Parent]
		if p == nil || p == m {
			return false
		}
		if p.Mountpoint != m.Mountpoint && stacked(p) {
			return true
		}
		m = p
	}
	return false
}

// CgroupBindSources is what a cgroup mount without a cgroup namespace
// binds in each hierarchy of hier (ContainerHierarchies): the container's
// own cgroup where the runtime made one (paths: a
// controller, or "" for cgroup2, to its directory, as
// cgroups.Manager.Paths gives them), else the cgroup init stays in, which
// is the runtime's own, read from self (the runtime's /proc/self/cgroup).
// A hierarchy self has no line for is left out, with why in err.
func CgroupBindSources(hier []*mountinfo.Info, paths map[string]string, self []byte) (map[string]string, error) {
	out := map[string]string{}
	var errs []error
	for _, h := range hier {
		if dir, ok := containerCgroup(h, paths); ok {
			out[h.Mountpoint] = dir
			continue
		}
		own, err := cgroupIn(h, bytes.NewReader(self))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[h.Mountpoint] = filepath.Join(h.Mountpoint, own)
	}
	return out, errors.Join(errs...)
}

// containerCgroup is the container's directory in hierarchy h, if paths
// (controller -> directory) has one.
func containerCgroup(h *mountinfo.Info, paths map[string]string) (string, bool) {
	if h.FSType != "cgroup" {
		dir, ok := paths[""]
		return dir, ok
	}
	for _, c := range strings.Split(cgroupV1Opts(h.VFSOptions), ",") {
		if dir, ok := paths[c]; ok {
			return dir, true
		}
	}
	return "", false
}

// cgroupIn is the cgroup path in hierarchy h that r, a /proc/PID/cgroup,
// gives.
func cgroupIn(h *mountinfo.Info, r io.Reader) (string, error) {
	want := ""
	if h.FSType == "cgroup" {
		want = cgroupV1Opts(h.VFSOptions)
	}
	s := bufio.NewScanner(r)
	for s.Scan() {
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) == 3 && sameControllers(parts[1], want) {
			return strings.TrimPrefix(parts[2], h.Root), nil
		}
	}
	return "", fmt.Errorf("no line for %s in /proc/self/cgroup", h.Mountpoint)
}

func sameControllers(line, super string) bool {
	if super == "" {
		return line == ""
	}
	for _, c := range strings.Split(line, ",") {
		if !strings.Contains(","+super+",", ","+c+",") {
			return false
		}
	}
	return line != ""
}
