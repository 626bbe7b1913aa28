package cgroups

// The v1 network controllers: net_cls.classid and net_prio.ifpriomap.

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func askedNetCls(r *specs.LinuxResources) bool { return r.Network != nil && r.Network.ClassID != nil }

func askedNetPrio(r *specs.LinuxResources) bool {
	return r.Network != nil && len(r.Network.Priorities) > 0
}

// setNetCls tags the container's packets with a class id
// (cgroup-v1/net_cls.rst).
func setNetCls(c cg, r *specs.LinuxResources) error {
	return c.write("net_cls.classid", u64(*r.Network.ClassID))
}

// setNetPrio writes one "ifname priority" line per interface
// (cgroup-v1/net_prio.rst).
func setNetPrio(c cg, r *specs.LinuxResources) error {
	for _, p := range r.Network.Priorities {
		if p.Name == "" || strings.ContainsAny(p.Name, " \t\n/") {
			return fmt.Errorf("linux.resources.network.priorities: bad interface name %q", p.Name)
		}
		if err := c.write("net_prio.ifpriomap", p.Name+" "+u64(p.Priority)); err != nil {
			return err
		}
	}
	return nil
}
