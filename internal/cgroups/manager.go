package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/trace"
)

// manager implements Manager for every layout: each controller is served
// by its v1 hierarchy if paths has it, else by the cgroup2 directory ("").
type manager struct {
	paths    map[string]string // controller -> dir; "" -> cgroup2 dir
	mounts   map[string]string // controller -> mount point; known to New, not Load
	res      *specs.LinuxResources
	rootless bool
	log      *trace.Log
	skipped  []string
	attach   func(c cg, rules []deviceRule) error // cgroup2 device filter; tests replace it
}

func newManager(cfg Config, l layout, log *trace.Log) (*manager, error) {
	p, err := cgroupPath(cfg)
	if err != nil {
		return nil, err
	}
	paths, err := l.dirs(p)
	if err != nil {
		return nil, err
	}
	m := &manager{paths: paths, mounts: map[string]string{}, res: cfg.Resources,
		rootless: cfg.Rootless, log: log, attach: attachDeviceFilter}
	for c, mt := range l.v1 {
		m.mounts[c] = mt.point
	}
	if l.unified != nil {
		m.mounts[""] = l.unified.point
	}
	return m, nil
}

// Create makes the directories, enables cgroup2 controllers on the way
// down, fills v1 cpuset parents, then applies the resources. On failure it
// removes what it made; controllers it enabled in ancestors stay enabled,
// as other cgroups may rely on them by then.
func (m *manager) Create() (err error) {
	made, err := m.makeDirs()
	defer func() {
		if err != nil {
			m.undo(made)
		}
	}()
	if err != nil {
		return err
	}
	if err := m.enableControllers(); err != nil {
		return err
	}
	if err := m.fillCpuset(); err != nil {
		return err
	}
	return m.set(m.res, true)
}

// makeDirs makes every hierarchy's directory; it returns what it made, in
// order, so undo can remove it.
func (m *manager) makeDirs() ([]string, error) {
	var made []string
	for _, dir := range m.dirs() {
		n, err := mkdirAll(m.log, dir)
		made = append(made, n...)
		if err == nil {
			continue
		}
		if !m.canSkip(dir, err) {
			return made, err
		}
		m.skip(dir)
	}
	return made, nil
}

// canSkip allows a rootless container to go on without a hierarchy it may
// not write to, as long as no limit needs that hierarchy.
func (m *manager) canSkip(dir string, err error) bool {
	if !m.rootless || !(errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EROFS)) {
		return false
	}
	for _, ctrl := range wanted(m.res) {
		d, ok := m.paths[ctrl]
		if !ok {
			d = m.paths[""]
		}
		if d == dir {
			return false
		}
	}
	return true
}

func (m *manager) skip(dir string) {
	for c, d := range m.paths {
		if d == dir {
			delete(m.paths, c)
			name := c
			if c == "" {
				name = "cgroup2"
			}
			m.skipped = append(m.skipped, name)
			m.log.Note("cgroup skip", name+" at "+dir+": rootless, no permission")
		}
	}
	sort.Strings(m.skipped)
}

// mkdirAll makes dir and its missing parents. A parent removed meanwhile by
// another container's Destroy (ENOENT) is made again.
func mkdirAll(log *trace.Log, dir string) ([]string, error) {
	var made []string
	for try := 0; ; try++ {
		n, err := mkdirAllOnce(log, dir)
		made = append(made, n...)
		if !errors.Is(err, unix.ENOENT) || try == 3 {
			return made, err
		}
	}
}

// mkdirAllOnce makes dir, and its parents only when the kernel says one is
// missing: usually one mkdir, no stat. (A stat of each level first took
// the cgroupfs lock for reading once per level and hierarchy, and waited
// behind every concurrent mkdir and rmdir; measured with 50 containers
// starting at once.) An existing dir is not an error and not "made".
func mkdirAllOnce(log *trace.Log, dir string) ([]string, error) {
	mkdir := func() error { return log.Step("cgroup mkdir", dir, func() error { return unix.Mkdir(dir, 0o755) }) }
	err := mkdir()
	switch {
	case err == nil:
		return []string{dir}, nil
	case errors.Is(err, unix.EEXIST): // made meanwhile by another container
		return nil, nil
	case !errors.Is(err, unix.ENOENT):
		return nil, err
	}
	parent := filepath.Dir(dir)
	if parent == dir || parent == "/" || parent == "." {
		return nil, err
	}
	made, err := mkdirAllOnce(log, parent)
	if err != nil {
		return made, err
	}
	if err = mkdir(); err == nil {
		made = append(made, dir)
	} else if errors.Is(err, unix.EEXIST) {
		err = nil
	}
	return made, err
}

func (m *manager) undo(made []string) {
	for i := len(made) - 1; i >= 0; i-- {
		d := made[i]
		_ = m.log.Step("cgroup rmdir", d, func() error { return unix.Rmdir(d) })
	}
}

// dirs lists the distinct directories, sorted: co-mounted v1 controllers
// (cpu,cpuacct) share one.
func (m *manager) dirs() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range m.paths {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

// hasV1 reports whether any v1 controller is in use: the main hierarchy
// is v1. name=systemd alone has no controller and does not count.
func (m *manager) hasV1() bool {
	for c := range m.paths {
		if c != "" && c != "name=systemd" {
			return true
		}
	}
	return false
}

// Apply writes pid to cgroup.procs in every hierarchy. On v1, cpuset must
// have cpus and mems by now (fillCpuset) or the kernel refuses (ENOSPC).
func (m *manager) Apply(pid int) error {
	for _, d := range m.dirs() {
		if err := (cg{dir: d, log: m.log}).write("cgroup.procs", strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	return nil
}

// CgroupFD opens the cgroup2 directory for clone3(CLONE_INTO_CGROUP).
// A read-only fd, not O_PATH, so the same kind of fd also works for
// BPF_PROG_ATTACH.
func (m *manager) ClonesInto() bool {
	_, ok := m.paths[""]
	return ok && !m.hasV1()
}

func (m *manager) CgroupFD() (int, error) {
	dir := m.paths[""]
	if !m.ClonesInto() {
		return -1, nil
	}
	var fd int
	err := m.log.Step("cgroup open", dir, func() (err error) {
		fd, err = unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return -1, err
	}
	return fd, nil
}

func (m *manager) Paths() map[string]string {
	out := make(map[string]string, len(m.paths))
	for k, v := range m.paths {
		out[k] = v
	}
	return out
}

func (m *manager) Skipped() []string { return append([]string(nil), m.skipped...) }

// mainDir is the directory whose cgroup.procs lists the container's
// processes: any v1 hierarchy holds them all; prefer ones every host has.
func (m *manager) mainDir() (string, bool) {
	for _, c := range []string{"pids", "freezer", "memory", "cpu", "devices"} {
		if d, ok := m.paths[c]; ok {
			return d, true
		}
	}
	if d, ok := m.paths[""]; ok {
		return d, true
	}
	ds := m.dirs()
	if len(ds) == 0 {
		return "", false
	}
	return ds[0], true
}

// Pids reads cgroup.procs in the cgroup and every cgroup below it.
func (m *manager) Pids() ([]int, error) {
	dir, ok := m.mainDir()
	if !ok {
		return nil, errors.New("list cgroup pids: no cgroup directory")
	}
	var pids []int
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		s, err := (cg{dir: p}).read("cgroup.procs")
		if err != nil {
			return err
		}
		for _, f := range strings.Fields(s) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				return err
			}
			pids = append(pids, pid)
		}
		return nil
	})
	return pids, err
}
