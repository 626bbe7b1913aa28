package cgroups

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"hako/internal/procself"
	"hako/internal/rawfile"
)

// mount is one cgroup hierarchy as this process sees it.
type mount struct {
	point string // where it is mounted, e.g. /sys/fs/cgroup/memory
	root  string // the hierarchy's directory shown at point ("/" unless bind-mounted from inside)
}

// layout is how the host mounted its cgroup hierarchies, and where this
// process sits in each.
type layout struct {
	v1      map[string]mount  // controller (or "name=systemd") -> its hierarchy
	unified *mount            // the cgroup2 mount; nil on a pure v1 host
	own     map[string]string // controller -> this process's cgroup; "" for cgroup2
}

// v1Controllers are the v1 hierarchies a container joins. name=systemd is
// joined too, as runc does, so systemd does not count the container's
// processes as part of the service that started it.
var v1Controllers = map[string]bool{
	"blkio": true, "cpu": true, "cpuacct": true, "cpuset": true, "devices": true,
	"freezer": true, "hugetlb": true, "memory": true, "net_cls": true, "net_prio": true,
	"perf_event": true, "pids": true, "rdma": true, "misc": true, "name=systemd": true,
}

// hostLayout reads this process's view of the cgroup mounts.
func hostLayout() (layout, error) {
	mi, err := procself.Mountinfo()
	if err != nil {
		return layout{}, err
	}
	l, err := parseMountinfo(bytes.NewReader(mi))
	if err != nil {
		return layout{}, err
	}
	g, err := rawfile.Open("/proc/self/cgroup", os.O_RDONLY)
	if err != nil {
		return layout{}, err
	}
	defer g.Close()
	l.own, err = parseProcCgroup(g)
	return l, err
}

// parseMountinfo finds the cgroup and cgroup2 mounts in a
// /proc/PID/mountinfo text (proc(5)). Only visible mounts count: not one
// that another is stacked on (same mount point, parent = it), nor one
// under such a mount. rootlesskit mounts a new /sys, and cgroup2 on it,
// over the host's, and both stay listed. Of the visible mounts of a
// hierarchy, the first wins.
func parseMountinfo(r io.Reader) (layout, error) {
	type entry struct {
		m            mount
		fstype, opts string
	}
	var all []entry
	var tree []mountNode
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := slices.Index(fields, "-")
		if sep < 5 || len(fields) < sep+4 {
			return layout{}, fmt.Errorf("parse mountinfo line %q: too few fields", sc.Text())
		}
		id, _ := strconv.Atoi(fields[0])
		parent, _ := strconv.Atoi(fields[1])
		m := mount{root: unescape(fields[3]), point: unescape(fields[4])}
		all = append(all, entry{m, fields[sep+1], fields[sep+3]})
		tree = append(tree, mountNode{id, parent, m.point})
	}
	vis := visibleMounts(tree)
	l := layout{v1: map[string]mount{}}
	for i, e := range all {
		if !vis[i] {
			continue
		}
		switch e.fstype {
		case "cgroup2":
			if l.unified == nil {
				m := e.m
				l.unified = &m
			}
		case "cgroup":
			addV1(l.v1, e.m, e.opts)
		}
	}
	return l, sc.Err()
}

// mountNode is one mountinfo line's place in the mount tree.
type mountNode struct {
	id, parent int
	point      string
}

// visibleMounts marks the mounts a path lookup can reach. A mount is
// hidden when another is stacked on it (mounted on the same point with it
// as parent). Its mount point is reached through its parent: through the
// parent's content (the parent must be visible) or, when it is stacked on
// the parent itself, wherever the parent's own point is reached.
func visibleMounts(ms []mountNode) []bool {
	byID := map[int]int{}
	for i, m := range ms {
		byID[m.id] = i
	}
	stacked := map[int]bool{}
	for _, m := range ms {
		if p, ok := byID[m.parent]; ok && ms[p].point == m.point && m.parent != m.id {
			stacked[p] = true
		}
	}
	out := make([]bool, len(ms))
	for i := range ms {
		out[i] = !stacked[i] && reached(ms, byID, stacked, i)
	}
	return out
}

// reached reports whether mount i's mount point can be reached.
func reached(ms []mountNode, byID map[int]int, stacked map[int]bool, i int) bool {
	for n := 0; n < len(ms); n++ {
		p, ok := byID[ms[i].parent]
		if !ok || p == i {
			return true // the root of this process's tree
		}
		if ms[p].point != ms[i].point && stacked[p] {
			return false // reached through a parent that is covered
		}
		i = p
	}
	return false
}

// addV1 records a v1 mount under each controller its super options name.
func addV1(v1 map[string]mount, m mount, superOpts string) {
	for _, opt := range strings.Split(superOpts, ",") {
		if _, seen := v1[opt]; v1Controllers[opt] && !seen {
			v1[opt] = m
		}
	}
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseProcCgroup reads /proc/PID/cgroup ("ID:controllers:path" lines,
// cgroups(7)) into controller -> path, with "" for the cgroup2 line.
func parseProcCgroup(r io.Reader) (map[string]string, error) {
	own := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("parse /proc/self/cgroup line %q: want id:controllers:path", sc.Text())
		}
		if parts[1] == "" {
			own[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	return own, sc.Err()
}

// cgroupPath turns cfg.Path into a clean absolute or relative cgroup path.
func cgroupPath(cfg Config) (string, error) {
	p := cfg.Path
	if p == "" {
		if cfg.ID == "" || strings.Contains(cfg.ID, "/") {
			return "", fmt.Errorf("default cgroup path: bad container id %q", cfg.ID)
		}
		p = "/hako/" + cfg.ID
	}
	if !path.IsAbs(p) && len(strings.Split(p, ":")) == 3 {
		return "", fmt.Errorf("cgroup path %q: %w", p, ErrSystemdPath)
	}
	clean := path.Clean(p)
	if clean == "/" || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("cgroup path %q: resolves to %q, outside a cgroup of its own", p, clean)
	}
	return clean, nil
}

// dirs maps every hierarchy of l to the container's directory in it.
func (l layout) dirs(p string) (map[string]string, error) {
	out := map[string]string{}
	for c, m := range l.v1 {
		d, err := m.dir(p, l.own, c)
		if err != nil {
			return nil, err
		}
		out[c] = d
	}
	if l.unified != nil {
		d, err := l.unified.dir(p, l.own, "")
		if err != nil {
			return nil, err
		}
		out[""] = d
	}
	return out, nil
}

// dir places cgroup path p in the hierarchy mounted at m. An absolute p is
// taken from the mount point; a relative one from this process's own cgroup
// in that hierarchy, made relative to what the mount shows (runc's
// GetOwnCgroupPath), so it also works in a container without a cgroup
// namespace.
func (m mount) dir(p string, own map[string]string, ctrl string) (string, error) {
	if path.IsAbs(p) {
		return filepath.Join(m.point, p), nil
	}
	mine, ok := own[ctrl]
	if !ok {
		return "", fmt.Errorf("relative cgroup path %q: no %q entry in /proc/self/cgroup", p, ctrl)
	}
	if m.root != "/" && (mine == m.root || strings.HasPrefix(mine, m.root+"/")) {
		mine = strings.TrimPrefix(mine, m.root)
	}
	return filepath.Join(m.point, mine, p), nil
}
