package cgroups

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func askedBlkio(r *specs.LinuxResources) bool {
	b := r.BlockIO
	return b != nil && (nz(b.Weight) || nz(b.LeafWeight) || len(b.WeightDevice) > 0 ||
		len(b.ThrottleReadBpsDevice) > 0 || len(b.ThrottleWriteBpsDevice) > 0 ||
		len(b.ThrottleReadIOPSDevice) > 0 || len(b.ThrottleWriteIOPSDevice) > 0)
}

// throttles pairs each throttle list with its v1 file and v2 io.max key.
func throttles(b *specs.LinuxBlockIO) []struct {
	v1, v2 string
	devs   []specs.LinuxThrottleDevice
} {
	return []struct {
		v1, v2 string
		devs   []specs.LinuxThrottleDevice
	}{
		{"blkio.throttle.read_bps_device", "rbps", b.ThrottleReadBpsDevice},
		{"blkio.throttle.write_bps_device", "wbps", b.ThrottleWriteBpsDevice},
		{"blkio.throttle.read_iops_device", "riops", b.ThrottleReadIOPSDevice},
		{"blkio.throttle.write_iops_device", "wiops", b.ThrottleWriteIOPSDevice},
	}
}

// setBlkioV1 writes the v1 blkio controller (cgroup-v1/blkio-controller.rst).
// Weights go to blkio.weight (CFQ, gone since Linux 5.0) when the kernel has
// it, else to blkio.bfq.weight, as runc picks.
func setBlkioV1(c cg, r *specs.LinuxResources) error {
	b := r.BlockIO
	weight, weightDev := "blkio.bfq.weight", "blkio.bfq.weight_device"
	if c.has("blkio.weight") {
		weight, weightDev = "blkio.weight", "blkio.weight_device"
	}
	var w []kv
	if nz(b.Weight) {
		w = append(w, kv{weight, u64(*b.Weight)})
	}
	if nz(b.LeafWeight) {
		w = append(w, kv{"blkio.leaf_weight", u64(*b.LeafWeight)})
	}
	for _, d := range b.WeightDevice {
		if nz(d.Weight) {
			w = append(w, kv{weightDev, devValue(d.LinuxBlockIODevice, u64(*d.Weight))})
		}
		if nz(d.LeafWeight) {
			w = append(w, kv{"blkio.leaf_weight_device", devValue(d.LinuxBlockIODevice, u64(*d.LeafWeight))})
		}
	}
	for _, t := range throttles(b) {
		for _, d := range t.devs {
			w = append(w, kv{t.v1, devValue(d.LinuxBlockIODevice, u64(d.Rate))})
		}
	}
	return writeAll(c, w)
}

// setIOV2 writes io.bfq.weight when BFQ is there (it takes the blkio scale
// 1-1000 unchanged), else io.weight on its own scale; then io.max
// (cgroup-v2.rst, "IO Interface Files").
func setIOV2(c cg, r *specs.LinuxResources) error {
	b := r.BlockIO
	if nz(b.LeafWeight) {
		c.note("linux.resources.blockIO.leafWeight", "ignored, cgroup v2 has no leaf weight")
	}
	bfq := c.has("io.bfq.weight")
	file, conv := "io.weight", ioWeight
	if bfq {
		file, conv = "io.bfq.weight", func(w uint16) uint64 { return uint64(w) }
	}
	var w []kv
	if nz(b.Weight) {
		w = append(w, kv{file, u64(conv(*b.Weight))})
	}
	for _, d := range b.WeightDevice {
		if nz(d.Weight) {
			w = append(w, kv{file, devValue(d.LinuxBlockIODevice, u64(conv(*d.Weight)))})
		}
	}
	for _, t := range throttles(b) {
		for _, d := range t.devs {
			w = append(w, kv{"io.max", devValue(d.LinuxBlockIODevice, t.v2+"="+rateV2(d.Rate))})
		}
	}
	return writeAll(c, w)
}

// ioWeight maps blkio weight [10, 1000] onto io.weight [1, 10000], as runc's
// ConvertBlkIOToIOWeightValue.
func ioWeight(w uint16) uint64 {
	v := min(max(uint64(w), 10), 1000)
	return 1 + (v-10)*9999/990
}

// rateV2: a rate of 0 lifts the limit on v1; io.max spells that "max".
func rateV2(rate uint64) string {
	if rate == 0 {
		return "max"
	}
	return u64(rate)
}

func devValue(d specs.LinuxBlockIODevice, v string) string {
	return fmt.Sprintf("%d:%d %s", d.Major, d.Minor, v)
}

func writeAll(c cg, w []kv) error {
	for _, x := range w {
		if err := c.write(x.file, x.value); err != nil {
			return err
		}
	}
	return nil
}
