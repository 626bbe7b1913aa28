package cgroups

// The pids controller: pids.max.

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func askedPids(r *specs.LinuxResources) bool { return r.Pids != nil && r.Pids.Limit != nil }

// setPids writes pids.max, the same file on v1 and v2; a limit of 0 or
// less means none ("max"), as runtime-spec tools use it.
func setPids(c cg, r *specs.LinuxResources) error {
	v := "max"
	if n := *r.Pids.Limit; n > 0 {
		v = i64(n)
	}
	return c.write("pids.max", v)
}
