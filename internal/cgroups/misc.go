package cgroups

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func askedPids(r *specs.LinuxResources) bool    { return r.Pids != nil && r.Pids.Limit != nil }
func askedHugetlb(r *specs.LinuxResources) bool { return len(r.HugepageLimits) > 0 }
func askedNetCls(r *specs.LinuxResources) bool  { return r.Network != nil && r.Network.ClassID != nil }
func askedRdma(r *specs.LinuxResources) bool    { return len(r.Rdma) > 0 }
func askedNetPrio(r *specs.LinuxResources) bool {
	return r.Network != nil && len(r.Network.Priorities) > 0
}

// setPids writes pids.max, the same file on v1 and v2; a limit of 0 or
// less means none ("max"), as runtime-spec tools use it.
func setPids(c cg, r *specs.LinuxResources) error {
	v := "max"
	if n := *r.Pids.Limit; n > 0 {
		v = i64(n)
	}
	return c.write("pids.max", v)
}

// validPageSize checks runtime-spec's hugepage size syntax ("2MB", "1GB":
// ^[1-9][0-9]*[KMGTPE]?B$); it is checked because it becomes part of a
// file name. By hand: the regexp package was hako's only use of it (~90 KB
// of binary and its Unicode tables' set-up in every process).
func validPageSize(s string) bool {
	s, ok := strings.CutSuffix(s, "B")
	if !ok || s == "" {
		return false
	}
	if strings.ContainsRune("KMGTPE", rune(s[len(s)-1])) {
		s = s[:len(s)-1]
	}
	if s == "" || s[0] < '1' || s[0] > '9' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// setHugetlbV1 writes hugetlb.<size>.limit_in_bytes and, where the kernel
// has it (5.7+), the reservation limit too: runtime-spec asks for
// reservation limits when supported (cgroup-v1/hugetlb.rst).
func setHugetlbV1(c cg, r *specs.LinuxResources) error {
	return setHugetlb(c, r.HugepageLimits, ".limit_in_bytes", ".rsvd.limit_in_bytes")
}

// setHugetlbV2 writes hugetlb.<size>.max and hugetlb.<size>.rsvd.max.
func setHugetlbV2(c cg, r *specs.LinuxResources) error {
	return setHugetlb(c, r.HugepageLimits, ".max", ".rsvd.max")
}

func setHugetlb(c cg, limits []specs.LinuxHugepageLimit, limit, rsvd string) error {
	for _, h := range limits {
		if !validPageSize(h.Pagesize) {
			return fmt.Errorf("linux.resources.hugepageLimits: bad page size %q, want e.g. 2MB", h.Pagesize)
		}
		prefix := "hugetlb." + h.Pagesize
		if err := c.write(prefix+limit, u64(h.Limit)); err != nil {
			return err
		}
		if c.has(prefix + rsvd) {
			if err := c.write(prefix+rsvd, u64(h.Limit)); err != nil {
				return err
			}
		}
	}
	return nil
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

// setRdma writes rdma.max, one device per write, same syntax on v1 and v2
// (cgroup-v1/rdma.rst): "mlx4_0 hca_handle=2 hca_object=2000".
func setRdma(c cg, r *specs.LinuxResources) error {
	devs := make([]string, 0, len(r.Rdma))
	for d := range r.Rdma {
		devs = append(devs, d)
	}
	sort.Strings(devs)
	for _, d := range devs {
		if d == "" || strings.ContainsAny(d, " \t\n=") {
			return fmt.Errorf("linux.resources.rdma: bad device name %q", d)
		}
		v := d
		if l := r.Rdma[d]; l.HcaHandles != nil {
			v += " hca_handle=" + u64(*l.HcaHandles)
		}
		if l := r.Rdma[d]; l.HcaObjects != nil {
			v += " hca_object=" + u64(*l.HcaObjects)
		}
		if v == d {
			continue
		}
		if err := c.write("rdma.max", v); err != nil {
			return err
		}
	}
	return nil
}
