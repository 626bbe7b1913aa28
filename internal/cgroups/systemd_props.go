package cgroups

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/rawfile"
	"hako/internal/systemd"
)

// infinity is systemd's "no limit" for byte, task and time properties.
const infinity = uint64(math.MaxUint64)

// resourceProps turns linux.resources into the unit properties systemd
// models, with runc's conversions (libcontainer/cgroups/systemd/v2.go).
// What systemd has no property for is written through cgroupfs only. A
// user's instance gets no device properties: it cannot attach the BPF
// program that enforces them.
func resourceProps(r *specs.LinuxResources, user bool) []systemd.Property {
	if r == nil {
		return nil
	}
	var p []systemd.Property
	add := func(name string, sig systemd.Signature, v any) { p = append(p, systemd.Prop(name, sig, v)) }
	if mem := r.Memory; mem != nil {
		limit := val(mem.Limit)
		if limit != 0 {
			add("MemoryMax", "t", bytesProp(limit))
		}
		if nz(mem.Reservation) {
			add("MemoryLow", "t", bytesProp(*mem.Reservation))
		}
		if s, err := swapV2(val(mem.Swap), limit); err == nil && s != "" {
			v := infinity
			if s != "max" {
				v, _ = strconv.ParseUint(s, 10, 64)
			}
			add("MemorySwapMax", "t", v)
		}
	}
	if cpu := r.CPU; cpu != nil {
		if nz(cpu.Shares) && (cpu.Idle == nil || *cpu.Idle == 0) {
			add("CPUWeight", "t", sharesToWeight(*cpu.Shares))
		}
		if nz(cpu.Period) {
			add("CPUQuotaPeriodUSec", "t", *cpu.Period)
		}
		if nz(cpu.Quota) || nz(cpu.Period) {
			add("CPUQuotaPerSecUSec", "t", quotaPerSec(val(cpu.Quota), val(cpu.Period)))
		}
		if cpu.Cpus != "" {
			if b, err := cpuBits(cpu.Cpus); err == nil {
				add("AllowedCPUs", "ay", b)
			}
		}
		if cpu.Mems != "" {
			if b, err := cpuBits(cpu.Mems); err == nil {
				add("AllowedMemoryNodes", "ay", b)
			}
		}
	}
	if askedPids(r) {
		add("TasksMax", "t", bytesProp(*r.Pids.Limit))
	}
	if b := r.BlockIO; b != nil && nz(b.Weight) {
		add("IOWeight", "t", ioWeight(*b.Weight))
	}
	p = append(p, unifiedProps(r.Unified)...)
	if user {
		return p
	}
	return append(p, deviceProps(r.Devices)...)
}

// filesLeft is what of r must still be written through cgroupfs once
// systemd applied resourceProps: what it has no property for, or sets
// differently (CPUQuota in whole percents). devices says whether hako's
// own device filter is still needed: not when systemd enforces the same
// list (its BPF program), and never for a user's instance (rootless: no
// one may attach one there). nil: nothing is left.
func filesLeft(r *specs.LinuxResources, user bool) (*specs.LinuxResources, bool) {
	if r == nil {
		return nil, false
	}
	rest := *r
	devices := !user && deviceProps(r.Devices) == nil
	rest.Devices = nil
	if mem := r.Memory; mem != nil && mem.Swappiness == nil && mem.DisableOOMKiller == nil && mem.UseHierarchy == nil &&
		mem.CheckBeforeUpdate == nil { // (kernel memory limits are ignored on v2 anyway)
		if _, err := swapV2(val(mem.Swap), val(mem.Limit)); err == nil {
			rest.Memory = nil
		}
	}
	rest.Pids = nil
	if cpu := r.CPU; cpu != nil && cpu.Burst == nil && cpu.Idle == nil && !nz(cpu.RealtimeRuntime) && !nz(cpu.RealtimePeriod) &&
		(!nz(cpu.Quota) || val(cpu.Quota) < 0 || exactQuota(*cpu.Quota, val(cpu.Period))) {
		rest.CPU = nil
	}
	if b := r.BlockIO; b != nil && len(b.WeightDevice) == 0 && noThrottles(b) && b.LeafWeight == nil {
		rest.BlockIO = nil
	}
	if devices {
		rest.Devices = r.Devices
	}
	if reflect.ValueOf(rest).IsZero() && !devices {
		return nil, false
	}
	return &rest, devices
}

func noThrottles(b *specs.LinuxBlockIO) bool {
	for _, t := range throttles(b) {
		if len(t.devs) > 0 {
			return false
		}
	}
	return true
}

// exactQuota reports whether systemd's CPUQuotaPerSecUSec gives cpu.max
// the quota asked for (it keeps whole percents).
func exactQuota(quota int64, period uint64) bool {
	if period == 0 {
		period = 100000
	}
	return uint64(quota)*1000000%period == 0 && quotaPerSec(quota, period)*period/1000000 == uint64(quota)
}

// bytesProp: a negative limit is no limit.
func bytesProp(v int64) uint64 {
	if v < 0 {
		return infinity
	}
	return uint64(v)
}

// quotaPerSec is CPUQuotaPerSecUSec: systemd keeps CPUQuota in whole
// percents, so a fraction is rounded up to the next 10 ms per second, as
// runc does, and the exact cpu.max is written through cgroupfs after.
func quotaPerSec(quota int64, period uint64) uint64 {
	if quota <= 0 {
		return infinity
	}
	if period == 0 {
		period = 100000
	}
	v := uint64(quota) * 1000000 / period
	if v%10000 != 0 {
		v = (v/10000 + 1) * 10000
	}
	return v
}

// cpuBits turns a cpuset list ("0-3,6") into systemd's bitmask: byte i
// holds CPUs 8i to 8i+7, lowest bit first.
func cpuBits(list string) ([]byte, error) {
	var b []byte
	for _, part := range strings.Split(strings.TrimSpace(list), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("cpuset %q: %w", list, err)
		}
		z := a
		if isRange {
			if z, err = strconv.ParseUint(hi, 10, 16); err != nil || z < a {
				return nil, fmt.Errorf("cpuset %q: bad range %q", list, part)
			}
		}
		for c := a; c <= z; c++ {
			for uint64(len(b)) <= c/8 {
				b = append(b, 0)
			}
			b[c/8] |= 1 << (c % 8)
		}
	}
	return b, nil
}

// unifiedProps maps the linux.resources.unified entries systemd models, as
// runc's unifiedResToSystemdProps.
func unifiedProps(u map[string]string) []systemd.Property {
	keys := make([]string, 0, len(u))
	for k := range u {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var p []systemd.Property
	for _, k := range keys {
		v := strings.TrimSpace(u[k])
		num := func() (uint64, bool) {
			if v == "max" {
				return infinity, true
			}
			n, err := strconv.ParseUint(v, 10, 64)
			return n, err == nil
		}
		name := map[string]string{"memory.high": "MemoryHigh", "memory.low": "MemoryLow", "memory.min": "MemoryMin",
			"memory.max": "MemoryMax", "memory.swap.max": "MemorySwapMax", "pids.max": "TasksMax", "cpu.weight": "CPUWeight"}[k]
		switch {
		case name != "":
			if n, ok := num(); ok {
				p = append(p, systemd.Prop(name, "t", n))
			}
		case k == "cpu.max":
			q, per, _ := strings.Cut(v, " ")
			period, _ := strconv.ParseUint(per, 10, 64)
			quota := int64(-1)
			if q != "max" {
				quota, _ = strconv.ParseInt(q, 10, 64)
			}
			if period != 0 {
				p = append(p, systemd.Prop("CPUQuotaPeriodUSec", "t", period))
			}
			p = append(p, systemd.Prop("CPUQuotaPerSecUSec", "t", quotaPerSec(quota, period)))
		case k == "cpuset.cpus" || k == "cpuset.mems":
			if b, err := cpuBits(v); err == nil {
				p = append(p, systemd.Prop(map[string]string{"cpuset.cpus": "AllowedCPUs", "cpuset.mems": "AllowedMemoryNodes"}[k], "ay", b))
			}
		}
	}
	return p
}

// deviceProps gives systemd the container's device allow-list
// (DevicePolicy=strict plus DeviceAllow=), so that `systemctl show` tells
// the truth and systemd's own device program agrees with hako's. Rules
// systemd cannot say (a deny that takes back an allowed access, a major
// with no name in /proc/devices) leave the policy to hako's program alone:
// no property.
func deviceProps(cfg []specs.LinuxDeviceCgroup) []systemd.Property {
	rules, err := deviceRules(cfg)
	if err != nil {
		return nil
	}
	names := procDevices()
	var allow []any
	for i, r := range rules {
		if !r.allow {
			// systemd's list only allows. A deny is a no-op there when no
			// earlier allow covers any of it (Docker ends its list with
			// "deny c 10:229 rwm", fuse, which it never allowed); one that
			// takes back an allowed access cannot be said.
			for _, prev := range rules[:i] {
				if prev.allow && overlaps(prev, r) {
					return nil
				}
			}
			continue
		}
		if r.typ == 'a' {
			if r.major < 0 && r.minor < 0 && strings.Contains(r.access, "r") && strings.Contains(r.access, "w") && strings.Contains(r.access, "m") {
				// every device: systemd's "auto" with no list
				return []systemd.Property{systemd.Prop("DevicePolicy", "s", "auto")}
			}
			return nil
		}
		kind := map[byte]string{'c': "char", 'b': "block"}[r.typ]
		var path string
		switch {
		case r.major < 0:
			path = kind + "-*"
		case r.minor < 0:
			n := names[string(r.typ)+strconv.FormatInt(r.major, 10)]
			if n == "" || strings.ContainsAny(n, "/ \t") {
				return nil
			}
			path = kind + "-" + n
		default:
			path = fmt.Sprintf("/dev/%s/%d:%d", kind, r.major, r.minor)
		}
		allow = append(allow, []any{path, r.access})
	}
	return []systemd.Property{systemd.Prop("DevicePolicy", "s", "strict"), systemd.Prop("DeviceAllow", "a(ss)", allow)}
}

// overlaps reports whether two rules match a common device and access.
func overlaps(a, b deviceRule) bool {
	num := func(x, y int64) bool { return x < 0 || y < 0 || x == y }
	return (a.typ == 'a' || b.typ == 'a' || a.typ == b.typ) && num(a.major, b.major) && num(a.minor, b.minor) &&
		strings.ContainsAny(a.access, b.access)
}

// procDevices reads the names of device majors: "c136" -> "pts".
func procDevices() map[string]string {
	f, err := rawfile.Open("/proc/devices", os.O_RDONLY)
	if err != nil {
		return nil
	}
	defer f.Close()
	return parseProcDevices(f)
}

func parseProcDevices(r io.Reader) map[string]string {
	out := map[string]string{}
	kind := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "Character"):
			kind = "c"
		case strings.HasPrefix(line, "Block"):
			kind = "b"
		default:
			num, name, ok := strings.Cut(line, " ")
			if ok && kind != "" {
				out[kind+num] = strings.TrimSpace(name)
			}
		}
	}
	return out
}

// annotationProps passes org.systemd.property.<Name> annotations on as
// unit properties, as runc does: the value is in GVariant text form
// ("uint64 123", "'text'", "true"), and a Name ending in "Sec" is given
// in seconds and sent as <Name without Sec>USec.
func annotationProps(ann map[string]string) ([]systemd.Property, error) {
	const prefix = "org.systemd.property."
	keys := make([]string, 0, len(ann))
	for k := range ann {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var p []systemd.Property
	for _, k := range keys {
		name := k[len(prefix):]
		if name == "" || strings.IndexFunc(name, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') }) >= 0 {
			return nil, fmt.Errorf("annotation %s: %q is not a systemd property name (ASCII letters only)", k, name)
		}
		v, err := systemd.ParseVariant(ann[k])
		if err != nil {
			return nil, fmt.Errorf("annotation %s=%s: %w", k, ann[k], err)
		}
		if base, ok := strings.CutSuffix(name, "Sec"); ok && base != "" && base[len(base)-1] >= 'a' && base[len(base)-1] <= 'z' {
			if v, err = secToUSec(v); err != nil {
				return nil, fmt.Errorf("annotation %s=%s: %w", k, ann[k], err)
			}
			name = base + "USec"
		}
		p = append(p, systemd.Property{Name: name, Value: v})
	}
	return p, nil
}

// secToUSec converts a number of seconds to a uint64 of microseconds.
func secToUSec(v systemd.Variant) (systemd.Variant, error) {
	var sec float64
	switch x := v.Value.(type) {
	case uint64:
		sec = float64(x)
	case int64:
		sec = float64(x)
	case uint32:
		sec = float64(x)
	case int32:
		sec = float64(x)
	case float64:
		sec = x
	default:
		return v, fmt.Errorf("a value in seconds must be a number, not %s", v.Sig)
	}
	if sec < 0 {
		return v, fmt.Errorf("negative seconds")
	}
	return systemd.Variant{Sig: "t", Value: uint64(sec * 1e6)}, nil
}

// describeProps is the trace's view of properties: names and values.
func describeProps(p []systemd.Property) string {
	var b strings.Builder
	for i, x := range p {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%v", x.Name, x.Value.Value)
	}
	return b.String()
}
