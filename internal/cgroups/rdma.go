package cgroups

// The rdma controller: rdma.max.

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func askedRdma(r *specs.LinuxResources) bool { return len(r.Rdma) > 0 }

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
