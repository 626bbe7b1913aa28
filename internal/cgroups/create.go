package cgroups

import (
	"path/filepath"
	"sort"
	"strings"
)

// enableControllers writes "+ctrl" to cgroup.subtree_control of every
// cgroup2 ancestor of the container's directory: a child only gets the
// controllers its parent enabled (Documentation/admin-guide/cgroup-v2.rst,
// "Enabling and Disabling"). On a pure v2 host all available controllers
// are enabled, as runc does, so later updates and stats find them. On a
// hybrid host the cgroup2 tree belongs to the init system, and enabling a
// controller at its root changes it for the whole host: only the
// controllers the limits need are enabled there.
func (m *manager) enableControllers() error {
	dir, ok := m.paths[""]
	mnt, known := m.mounts[""]
	if !ok || !known {
		return nil
	}
	want := m.cgroup2Wanted(cg{dir: mnt, log: m.log})
	if len(want) == 0 {
		return nil
	}
	rel, err := filepath.Rel(mnt, dir)
	if err != nil {
		return err
	}
	parts := strings.Split(rel, "/")
	for i := range parts { // top down: the root first
		enable(cg{dir: filepath.Join(append([]string{mnt}, parts[:i]...)...), log: m.log}, want)
	}
	return nil
}

// cgroup2Wanted lists the controllers to enable below the cgroup2 root.
func (m *manager) cgroup2Wanted(root cg) []string {
	var want []string
	for c := range root.controllers() {
		if !m.hasV1() || m.needsCgroup2(c) {
			want = append(want, c)
		}
	}
	sort.Strings(want)
	return want
}

// needsCgroup2 reports whether a limit needs cgroup2 controller ctrl
// because no v1 hierarchy serves it (hugetlb on this hybrid host).
func (m *manager) needsCgroup2(ctrl string) bool {
	for _, c := range wanted(m.res) {
		if _, v1 := m.paths[c]; !v1 && v2Name[c] == ctrl {
			return true
		}
	}
	return false
}

// enable turns controllers on in c's subtree_control. A failure is not
// fatal, as in runc: the parent may hold processes (the "no internal
// process" rule) or a rootless user may lack a controller; the limit that
// needs it then fails with a clear error.
func enable(c cg, ctrls []string) {
	all := "+" + strings.Join(ctrls, " +")
	if c.write("cgroup.subtree_control", all) == nil || len(ctrls) == 1 {
		return
	}
	for _, ctrl := range ctrls {
		_ = c.write("cgroup.subtree_control", "+"+ctrl)
	}
}

// fillCpuset copies cpuset.cpus and cpuset.mems down to every new v1
// cpuset cgroup on the path: a v1 cpuset cgroup starts empty and refuses
// tasks until both are set (Documentation/admin-guide/cgroup-v1/cpusets.rst).
func (m *manager) fillCpuset() error {
	dir, ok := m.paths["cpuset"]
	mnt, known := m.mounts["cpuset"]
	if !ok || !known {
		return nil
	}
	rel, err := filepath.Rel(mnt, dir)
	if err != nil {
		return err
	}
	parent := cg{dir: mnt, log: m.log}
	for _, name := range strings.Split(rel, "/") {
		child := cg{dir: filepath.Join(parent.dir, name), log: m.log}
		if err := child.opened(func(c cg) error {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				if err := inherit(parent, c, f); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		parent = child
	}
	return nil
}

func inherit(parent, child cg, file string) error {
	cur, err := child.read(file)
	if err != nil || cur != "" {
		return err
	}
	v, err := parent.read(file)
	if err != nil {
		return err
	}
	return child.write(file, v)
}
