package cgroups

// The hugetlb controller: hugetlb.<size>.limit_in_bytes (v1) or .max (v2),
// and their reservation limits.

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func askedHugetlb(r *specs.LinuxResources) bool { return len(r.HugepageLimits) > 0 }

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
