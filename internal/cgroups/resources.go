package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

type setFunc func(c cg, r *specs.LinuxResources) error

// controller is one v1 controller name, the linux.resources part it takes,
// and how each hierarchy applies it. Order is runc's.
type controller struct {
	name  string
	field string // for errors: which part of linux.resources asked for it
	asked func(r *specs.LinuxResources) bool
	v1    setFunc
	v2    setFunc // nil: cgroup2 has no such controller
}

var controllers = []controller{
	{"cpuset", "cpu.cpus/mems", askedCpuset, setCpuset, setCpuset},
	{"memory", "memory", askedMemory, setMemoryV1, setMemoryV2},
	{"cpu", "cpu", askedCPU, setCPUV1, setCPUV2},
	{"pids", "pids", askedPids, setPids, setPids},
	{"blkio", "blockIO", askedBlkio, setBlkioV1, setIOV2},
	{"hugetlb", "hugepageLimits", askedHugetlb, setHugetlbV1, setHugetlbV2},
	{"net_cls", "network.classID", askedNetCls, setNetCls, nil},
	{"net_prio", "network.priorities", askedNetPrio, setNetPrio, nil},
	{"rdma", "rdma", askedRdma, setRdma, setRdma},
}

// v2Name maps a v1 controller to its cgroup2 counterpart.
var v2Name = map[string]string{
	"cpuset": "cpuset", "memory": "memory", "cpu": "cpu", "pids": "pids",
	"blkio": "io", "hugetlb": "hugetlb", "rdma": "rdma",
}

// wanted lists the controllers r sets a limit in.
func wanted(r *specs.LinuxResources) []string {
	var out []string
	for _, c := range controllers {
		if r != nil && c.asked(r) {
			out = append(out, c.name)
		}
	}
	return out
}

// set applies r; devices only at Create or when r has device rules.
func (m *manager) set(r *specs.LinuxResources, create bool) error {
	if r == nil {
		r = &specs.LinuxResources{}
	}
	if len(r.Unified) > 0 && m.hasV1() {
		return ErrUnifiedOnV1
	}
	m.noteIgnored(r)
	if create || len(r.Devices) > 0 {
		if err := m.setDevices(r.Devices); err != nil {
			return err
		}
	}
	for _, ctl := range controllers {
		if !ctl.asked(r) {
			continue
		}
		if err := m.apply(ctl, r); err != nil {
			return err
		}
	}
	return m.setUnified(r.Unified)
}

func (m *manager) apply(ctl controller, r *specs.LinuxResources) error {
	c, v2, err := m.where(ctl.name)
	if err != nil {
		return fmt.Errorf("linux.resources.%s: %w", ctl.field, err)
	}
	if v2 {
		return ctl.v2(c, r)
	}
	return ctl.v1(c, r)
}

// Set updates the resources of a created cgroup.
func (m *manager) Set(r *specs.LinuxResources) error { return m.set(r, false) }

// where finds the hierarchy serving v1 controller ctrl: its own v1
// hierarchy, else the cgroup2 directory if the controller is enabled there.
func (m *manager) where(ctrl string) (c cg, v2 bool, err error) {
	if d, ok := m.paths[ctrl]; ok {
		return cg{dir: d, log: m.log}, false, nil
	}
	name := v2Name[ctrl]
	if name == "" {
		return cg{}, false, fmt.Errorf("%w: %s, a cgroup v1 controller, is not mounted", ErrNoController, ctrl)
	}
	if d, ok := m.paths[""]; ok && (cg{dir: d, log: m.log}).controllers()[name] {
		return cg{dir: d, log: m.log}, true, nil
	}
	return cg{}, false, fmt.Errorf("%w: %s is neither mounted (v1) nor enabled (v2)", ErrNoController, ctrl)
}

// setUnified writes linux.resources.unified: file name -> raw value, into
// the cgroup2 directory, after everything else so it can override.
func (m *manager) setUnified(u map[string]string) error {
	keys := make([]string, 0, len(u))
	for k := range u {
		if k == "" || k == "." || k == ".." || strings.ContainsAny(k, "/\x00") {
			return fmt.Errorf("linux.resources.unified: bad file name %q", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	dir, ok := m.paths[""]
	if len(keys) > 0 && !ok {
		return fmt.Errorf("linux.resources.unified: %w: no cgroup2 directory", ErrNoController)
	}
	c := cg{dir: dir, log: m.log}
	for _, k := range keys {
		err := c.write(k, u[k])
		if errors.Is(err, fs.ErrNotExist) {
			ctrl, _, _ := strings.Cut(k, ".")
			return fmt.Errorf("linux.resources.unified[%q]: %w (is the %s controller enabled in %s?)", k, err, ctrl, c.dir)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
