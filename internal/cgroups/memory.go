package cgroups

import (
	"errors"
	"fmt"
	"io/fs"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// askedMemory leaves out kernel and kernelTCP: they are accepted and
// ignored (noteIgnored), so they need no memory cgroup.
func askedMemory(r *specs.LinuxResources) bool {
	m := r.Memory
	return m != nil && (nz(m.Limit) || nz(m.Reservation) || nz(m.Swap) || m.Swappiness != nil ||
		val(m.DisableOOMKiller) || m.UseHierarchy != nil)
}

// noteIgnored traces the limits that are accepted but never applied.
// Kernel memory limits are deprecated since Linux 5.4 and writes to
// memory.kmem.limit_in_bytes fail since 5.16 (cgroup-v1/memory.rst).
func (m *manager) noteIgnored(r *specs.LinuxResources) {
	//lint:ignore SA1019 read only to tell the user it is ignored
	if r.Memory != nil && (r.Memory.Kernel != nil || r.Memory.KernelTCP != nil) {
		cg{log: m.log}.note("linux.resources.memory.kernel/kernelTCP", "ignored, kernel memory limits are deprecated (Linux 5.4)")
	}
}

// setMemoryV1 writes the v1 memory controller (cgroup-v1/memory.rst).
func setMemoryV1(c cg, r *specs.LinuxResources) error {
	mem := r.Memory
	if err := setLimitsV1(c, mem); err != nil {
		return err
	}
	if nz(mem.Reservation) {
		if err := c.write("memory.soft_limit_in_bytes", i64(*mem.Reservation)); err != nil {
			return err
		}
	}
	if mem.Swappiness != nil {
		if *mem.Swappiness > 100 {
			return fmt.Errorf("linux.resources.memory.swappiness %d: want 0 to 100", *mem.Swappiness)
		}
		if err := c.write("memory.swappiness", u64(*mem.Swappiness)); err != nil {
			return err
		}
	}
	if val(mem.DisableOOMKiller) {
		if err := c.write("memory.oom_control", "1"); err != nil {
			return err
		}
	}
	if mem.UseHierarchy != nil {
		return c.write("memory.use_hierarchy", boolString(*mem.UseHierarchy))
	}
	return nil
}

// setLimitsV1 writes memory and memory+swap limits. The kernel keeps
// limit_in_bytes <= memsw.limit_in_bytes at every step, so when both grow
// memsw goes first, else the memory limit does (runc's order).
func setLimitsV1(c cg, mem *specs.LinuxMemory) error {
	limit, swap := val(mem.Limit), val(mem.Swap)
	if limit == -1 && swap == 0 && c.has("memory.memsw.limit_in_bytes") {
		swap = -1 // unlimited memory means unlimited swap too, as runc does
	}
	memKV, swapKV := kv{"memory.limit_in_bytes", i64(limit)}, kv{"memory.memsw.limit_in_bytes", i64(swap)}
	var order []kv
	switch {
	case limit != 0 && swap != 0:
		cur, err := c.uint("memory.limit_in_bytes")
		if err != nil {
			return err
		}
		order = []kv{memKV, swapKV}
		if swap == -1 || cur < uint64(swap) {
			order = []kv{swapKV, memKV}
		}
	case limit != 0:
		order = []kv{memKV}
	case swap != 0:
		order = []kv{swapKV}
	}
	return writeAll(c, order)
}

// setMemoryV2 writes memory.max, memory.swap.max and memory.low
// (cgroup-v2.rst, "Memory Interface Files").
func setMemoryV2(c cg, r *specs.LinuxResources) error {
	mem := r.Memory
	noteV1Memory(c, mem)
	limit := val(mem.Limit)
	if err := checkUsage(c, mem); err != nil {
		return err
	}
	swap, err := swapV2(val(mem.Swap), limit)
	if err != nil {
		return err
	}
	if err := writeSwapV2(c, swap); err != nil {
		return err
	}
	if limit != 0 {
		if err := c.write("memory.max", maxString(limit)); err != nil {
			return err
		}
	}
	if nz(mem.Reservation) {
		return c.write("memory.low", maxString(*mem.Reservation))
	}
	return nil
}

func noteV1Memory(c cg, mem *specs.LinuxMemory) {
	if mem.Swappiness != nil {
		c.note("linux.resources.memory.swappiness", "ignored, cgroup v2 has no per-cgroup swappiness")
	}
	if val(mem.DisableOOMKiller) {
		c.note("linux.resources.memory.disableOOMKiller", "ignored, cgroup v2 cannot disable the OOM killer")
	}
	if mem.UseHierarchy != nil && !*mem.UseHierarchy {
		c.note("linux.resources.memory.useHierarchy", "ignored, cgroup v2 is always hierarchical")
	}
}

// checkUsage implements checkBeforeUpdate: refuse a limit below the
// current usage instead of letting the kernel reclaim or OOM-kill.
func checkUsage(c cg, mem *specs.LinuxMemory) error {
	limit := val(mem.Limit)
	if !val(mem.CheckBeforeUpdate) || limit <= 0 {
		return nil
	}
	cur, err := c.uint("memory.current")
	if err != nil {
		return err
	}
	if uint64(limit) < cur {
		return fmt.Errorf("linux.resources.memory.limit %d is below the current usage %d (checkBeforeUpdate)", limit, cur)
	}
	return nil
}

// swapV2 turns runtime-spec's swap (memory+swap, the v1 meaning) into
// memory.swap.max (swap alone), as runc's ConvertMemorySwapToCgroupV2Value.
// "" means nothing to write.
func swapV2(swap, limit int64) (string, error) {
	switch {
	case swap == -1 || (limit == -1 && swap == 0):
		return "max", nil // unlimited memory means unlimited swap too, as on v1
	case swap == 0:
		return "", nil
	case limit == 0 || limit == -1:
		return "", fmt.Errorf("linux.resources.memory.swap %d: needs a memory limit", swap)
	case limit < 0 || swap < 0:
		return "", fmt.Errorf("linux.resources.memory: bad limit %d or swap %d", limit, swap)
	case swap < limit:
		return "", fmt.Errorf("linux.resources.memory.swap %d is below limit %d: swap counts memory+swap", swap, limit)
	}
	return i64(swap - limit), nil
}

// writeSwapV2 tolerates a kernel without swap accounting (no
// memory.swap.max) when the value asks for nothing: "max" or "0".
func writeSwapV2(c cg, swap string) error {
	if swap == "" {
		return nil
	}
	err := c.write("memory.swap.max", swap)
	if errors.Is(err, fs.ErrNotExist) && (swap == "max" || swap == "0") {
		c.note("memory.swap.max", "no swap accounting in this kernel")
		return nil
	}
	return err
}

// maxString writes a v2 limit; a negative one means "no limit".
func maxString(v int64) string {
	if v < 0 {
		return "max"
	}
	return i64(v)
}

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
