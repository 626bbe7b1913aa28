package cgroups

import (
	"errors"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func askedCPU(r *specs.LinuxResources) bool {
	c := r.CPU
	return c != nil && (nz(c.Shares) || nz(c.Quota) || nz(c.Period) || c.Burst != nil ||
		nz(c.RealtimeRuntime) || nz(c.RealtimePeriod) || c.Idle != nil)
}

func askedCpuset(r *specs.LinuxResources) bool {
	return r.CPU != nil && (r.CPU.Cpus != "" || r.CPU.Mems != "")
}

// setCPUV1 writes the v1 cpu controller: shares, CFS bandwidth
// (Documentation/scheduler/sched-bwc.rst), RT budget (sched-rt-group.rst).
func setCPUV1(c cg, r *specs.LinuxResources) error {
	cpu := r.CPU
	if nz(cpu.Shares) {
		if err := c.write("cpu.shares", u64(*cpu.Shares)); err != nil {
			return err
		}
	}
	var pre []kv
	if nz(cpu.Period) {
		pre = append(pre, kv{"cpu.cfs_period_us", u64(*cpu.Period)})
	}
	if cpu.Burst != nil {
		pre = append(pre, kv{"cpu.cfs_burst_us", u64(*cpu.Burst)})
	}
	var quota *kv
	if nz(cpu.Quota) {
		quota = &kv{"cpu.cfs_quota_us", i64(*cpu.Quota)}
	}
	if err := writeAround(c, pre, quota); err != nil {
		return err
	}
	if err := setRealtime(c, cpu); err != nil {
		return err
	}
	return setIdle(c, cpu)
}

// setRealtime writes the RT group budget; period first, runtime last, the
// runtime retried if the kernel refused the period before it.
func setRealtime(c cg, cpu *specs.LinuxCPU) error {
	var pre []kv
	if nz(cpu.RealtimePeriod) {
		pre = append(pre, kv{"cpu.rt_period_us", u64(*cpu.RealtimePeriod)})
	}
	var runtime *kv
	if nz(cpu.RealtimeRuntime) {
		runtime = &kv{"cpu.rt_runtime_us", i64(*cpu.RealtimeRuntime)}
	}
	return writeAround(c, pre, runtime)
}

func setIdle(c cg, cpu *specs.LinuxCPU) error {
	if cpu.Idle == nil {
		return nil
	}
	return c.write("cpu.idle", i64(*cpu.Idle))
}

// setCPUV2 writes cpu.weight, cpu.max, cpu.max.burst and cpu.idle
// (Documentation/admin-guide/cgroup-v2.rst, "CPU Interface Files").
func setCPUV2(c cg, r *specs.LinuxResources) error {
	cpu := r.CPU
	if nz(cpu.RealtimeRuntime) || nz(cpu.RealtimePeriod) {
		return errors.New("linux.resources.cpu.realtimeRuntime/realtimePeriod: cgroup v2 has no realtime budget (cpu.rt_*), it needs the v1 cpu controller")
	}
	if err := setIdle(c, cpu); err != nil {
		return err
	}
	// An idle cgroup has the minimum weight already; the kernel ignores
	// cpu.weight there, runc does not write it either.
	if nz(cpu.Shares) && (cpu.Idle == nil || *cpu.Idle == 0) {
		if err := c.write("cpu.weight", strconv.FormatUint(sharesToWeight(*cpu.Shares), 10)); err != nil {
			return err
		}
	}
	var pre []kv
	if cpu.Burst != nil {
		pre = append(pre, kv{"cpu.max.burst", u64(*cpu.Burst)})
	}
	return writeAround(c, pre, cpuMax(cpu))
}

// cpuMax is cpu.max, "$QUOTA $PERIOD" with "max" for no quota (runc:
// a quota <= 0 is no quota; without a period the kernel keeps its own).
func cpuMax(cpu *specs.LinuxCPU) *kv {
	if !nz(cpu.Quota) && !nz(cpu.Period) {
		return nil
	}
	v := "max"
	if cpu.Quota != nil && *cpu.Quota > 0 {
		v = i64(*cpu.Quota)
	}
	if nz(cpu.Period) {
		v += " " + u64(*cpu.Period)
	}
	return &kv{"cpu.max", v}
}

// sharesToWeight maps v1 cpu.shares [2, 262144] onto v2 cpu.weight
// [1, 10000] linearly, as runc does.
func sharesToWeight(shares uint64) uint64 {
	shares = min(max(shares, 2), 262144)
	return 1 + ((shares-2)*9999)/262142
}

// setCpuset writes cpuset.cpus and cpuset.mems; the files have the same
// name and syntax on v1 and v2.
func setCpuset(c cg, r *specs.LinuxResources) error {
	if r.CPU.Cpus != "" {
		if err := c.write("cpuset.cpus", r.CPU.Cpus); err != nil {
			return err
		}
	}
	if r.CPU.Mems != "" {
		return c.write("cpuset.mems", r.CPU.Mems)
	}
	return nil
}

type kv struct{ file, value string }

// writeAround writes pre, then main, then writes again any pre value the
// kernel refused with EINVAL: a new period or burst can be refused until
// the new quota is in (old quota over new period may exceed the parent's
// bandwidth, sched-bwc.rst), as runc handles it.
func writeAround(c cg, pre []kv, main *kv) error {
	var retry []kv
	for _, p := range pre {
		err := c.write(p.file, p.value)
		if err != nil && main != nil && errors.Is(err, unix.EINVAL) {
			retry = append(retry, p)
			continue
		}
		if err != nil {
			return err
		}
	}
	if main == nil {
		return nil
	}
	if err := c.write(main.file, main.value); err != nil {
		return err
	}
	for _, p := range retry {
		if err := c.write(p.file, p.value); err != nil {
			return err
		}
	}
	return nil
}

// nz reports a pointer set to something other than zero: runtime-spec
// tools write 0 for "unset" as often as they omit the field.
func nz[T int64 | uint64 | uint16 | uint32](p *T) bool { return p != nil && *p != 0 }

func u64[T uint64 | uint32 | uint16](v T) string { return strconv.FormatUint(uint64(v), 10) }
func i64(v int64) string                         { return strconv.FormatInt(v, 10) }

// val returns *p, or 0 for nil.
func val[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
