package cgroups

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/systemd"
)

func TestExpandSlice(t *testing.T) {
	for in, want := range map[string]string{
		"-.slice":                   "/",
		"system.slice":              "/system.slice",
		"a-b-c.slice":               "/a.slice/a-b.slice/a-b-c.slice",
		"kubepods-besteffort.slice": "/kubepods.slice/kubepods-besteffort.slice",
		"bad":                       "",
		".slice":                    "",
		"a--b.slice":                "",
		"a/b.slice":                 "",
	} {
		got, err := expandSlice(in)
		if (want == "") != (err != nil) || got != want {
			t.Errorf("expandSlice(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestParseUnit(t *testing.T) {
	for _, tc := range []struct {
		path        string
		user        bool
		slice, unit string
		err         string
	}{
		{"", false, "system.slice", "hako-c1.scope", ""},
		{"", true, "user.slice", "hako-c1.scope", ""},
		{"system.slice:docker:abc", false, "system.slice", "docker-abc.scope", ""},
		{"kubepods-besteffort-pod12.slice:cri-containerd:f00", false, "kubepods-besteffort-pod12.slice", "cri-containerd-f00.scope", ""},
		{":libpod:x", true, "user.slice", "libpod-x.scope", ""},
		{"machine.slice::x", false, "machine.slice", "x.scope", ""},
		{"a:b", false, "", "", `expects "slice:prefix:name"`},
		{"nota:b:c", false, "", "", "is not a slice name"},
		{"system.slice:b:c.slice", false, "", "", "not supported"},
		{"system.slice:b:", false, "", "", "name part is empty"},
		{"system.slice:b:c d", false, "", "", "not a valid unit name"},
	} {
		u, err := parseUnit(tc.path, "c1", tc.user)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseUnit(%q): %v, want error %q", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil || u.slice != tc.slice || u.unit != tc.unit || u.user != tc.user {
			t.Errorf("parseUnit(%q) = %+v, %v; want %s %s", tc.path, u, err, tc.slice, tc.unit)
		}
	}
}

func props(p []systemd.Property) map[string]any {
	out := map[string]any{}
	for _, x := range p {
		out[x.Name] = x.Value.Value
	}
	return out
}

func TestResourceProps(t *testing.T) {
	i64p := func(v int64) *int64 { return &v }
	u64p := func(v uint64) *uint64 { return &v }
	u16p := func(v uint16) *uint16 { return &v }
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: i64p(64 << 20), Swap: i64p(96 << 20), Reservation: i64p(32 << 20)},
		CPU:     &specs.LinuxCPU{Shares: u64p(2048), Quota: i64p(33333), Period: u64p(100000), Cpus: "0-1,9", Mems: "0"},
		Pids:    &specs.LinuxPids{Limit: i64p(-1)},
		BlockIO: &specs.LinuxBlockIO{Weight: u16p(500)},
	}
	got := props(resourceProps(r, false))
	want := map[string]any{
		"MemoryMax": uint64(64 << 20), "MemoryLow": uint64(32 << 20), "MemorySwapMax": uint64(32 << 20),
		"CPUWeight": uint64(79), "CPUQuotaPeriodUSec": uint64(100000),
		"CPUQuotaPerSecUSec": uint64(340000), // 33.33 % rounded up to whole percents
		"AllowedCPUs":        []byte{3, 2}, "AllowedMemoryNodes": []byte{1},
		"TasksMax": infinity, "IOWeight": uint64(4950),
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	// Without a quota, a period alone means no quota, and swap = limit
	// means no swap at all.
	got = props(resourceProps(&specs.LinuxResources{CPU: &specs.LinuxCPU{Period: u64p(50000)},
		Memory: &specs.LinuxMemory{Limit: i64p(1 << 20), Swap: i64p(1 << 20)}}, false))
	if got["CPUQuotaPerSecUSec"] != infinity || got["CPUQuotaPeriodUSec"] != uint64(50000) || got["MemorySwapMax"] != uint64(0) {
		t.Errorf("period only / swap=limit: %v", got)
	}
	got = props(unifiedProps(map[string]string{"memory.high": "max", "pids.max": "20", "cpu.max": "50000 100000", "io.max": "x"}))
	if got["MemoryHigh"] != infinity || got["TasksMax"] != uint64(20) || got["CPUQuotaPerSecUSec"] != uint64(500000) || len(got) != 4 {
		t.Errorf("unified: %v", got)
	}
}

func TestDeviceProps(t *testing.T) {
	i64p := func(v int64) *int64 { return &v }
	// Docker's list: deny all, then allows.
	cfg := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: i64p(4), Minor: i64p(64), Access: "rwm"}}
	got := props(deviceProps(cfg))
	if got["DevicePolicy"] != "strict" {
		t.Fatalf("policy: %v", got)
	}
	allow := got["DeviceAllow"].([]any)
	want := map[string]bool{"char-*": true, "block-*": true, "/dev/char/4:64": true, "/dev/char/1:3": true, "char-pts": true}
	for _, a := range allow {
		delete(want, a.([]any)[0].(string))
	}
	if len(want) > 0 {
		t.Errorf("DeviceAllow %v lacks %v", allow, want)
	}
	// Docker's last rule denies fuse, which nothing allowed: a no-op.
	cfg = append(cfg, specs.LinuxDeviceCgroup{Allow: false, Type: "c", Major: i64p(10), Minor: i64p(229), Access: "rwm"})
	if got := props(deviceProps(cfg)); got["DevicePolicy"] != "strict" {
		t.Errorf("deny of what was never allowed: %v", got)
	}
	// A deny that takes back an allowed access cannot be said to systemd:
	// hako's own filter alone enforces it.
	cfg = append(cfg, specs.LinuxDeviceCgroup{Allow: false, Type: "c", Major: i64p(4), Minor: i64p(64), Access: "w"})
	if p := deviceProps(cfg); p != nil {
		t.Errorf("deny after allow: %v", props(p))
	}
	// Every device (privileged): DevicePolicy=auto.
	if got := props(deviceProps([]specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}})); got["DevicePolicy"] != "auto" {
		t.Errorf("allow all: %v", got)
	}
}

func TestAnnotationProps(t *testing.T) {
	got, err := annotationProps(map[string]string{
		"org.systemd.property.TimeoutStopSec": "uint64 3",
		"org.systemd.property.CollectMode":    "'inactive-or-failed'",
		"other":                               "x",
	})
	if err != nil {
		t.Fatal(err)
	}
	m := props(got)
	if m["TimeoutStopUSec"] != uint64(3000000) || m["CollectMode"] != "inactive-or-failed" || len(m) != 2 {
		t.Errorf("props: %v", m)
	}
	for _, bad := range []map[string]string{
		{"org.systemd.property.Bad-Name": "1"},
		{"org.systemd.property.X": "'unterminated"},
		{"org.systemd.property.TimeoutStopSec": "'three'"},
	} {
		if _, err := annotationProps(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestFilesLeft(t *testing.T) {
	i64p := func(v int64) *int64 { return &v }
	u64p := func(v uint64) *uint64 { return &v }
	// Everything systemd sets exactly: nothing left, not even devices
	// (systemd enforces the same list).
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64p(1 << 26)}, Pids: &specs.LinuxPids{Limit: i64p(9)},
		CPU: &specs.LinuxCPU{Quota: i64p(50000), Period: u64p(100000), Shares: u64p(100)}}
	if rest, dev := filesLeft(r, false); rest != nil || dev {
		t.Errorf("exact: left %+v, devices %v", rest, dev)
	}
	// A quota systemd rounds, and swappiness it has no property for.
	r.CPU.Quota = i64p(33333)
	r.Memory.Swappiness = u64p(10)
	rest, dev := filesLeft(r, false)
	if rest == nil || rest.CPU == nil || rest.Memory == nil || rest.Pids != nil || dev {
		t.Errorf("rounded: left %+v, devices %v", rest, dev)
	}
	// A device rule systemd cannot say: hako's own filter is needed.
	r = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Major: i64p(4), Minor: i64p(64), Access: "rwm"},
		{Allow: false, Type: "c", Major: i64p(4), Minor: i64p(64), Access: "w"}}}
	if rest, dev := filesLeft(r, false); rest == nil || !dev || len(rest.Devices) != 2 {
		t.Errorf("devices: left %+v, devices %v", rest, dev)
	}
	if _, dev := filesLeft(r, true); dev {
		t.Error("a user's instance gets a device filter")
	}
	if !exactQuota(50000, 100000) || exactQuota(33333, 100000) || !exactQuota(20000, 0) || exactQuota(1, 3) {
		t.Error("exactQuota")
	}
}
