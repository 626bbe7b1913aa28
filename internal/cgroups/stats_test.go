package cgroups

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestStats(t *testing.T) {
	const v1Limit = 9223372036854771712
	tests := []struct {
		name  string
		setup func(t *testing.T) (*fixture, layout)
		want  Stats
		ooms  uint64
	}{{
		name:  "v1",
		setup: func(t *testing.T) (*fixture, layout) { return v1Fixture(t, allV1) },
		want: Stats{
			CPU: CPU{
				Usage: CPUUsage{Total: 3000, Percpu: []uint64{1000, 2000}, PercpuKernel: []uint64{100, 200},
					PercpuUser: []uint64{900, 1800}, User: 70_000_000, Kernel: 20_000_000},
				Throttling: Throttling{Periods: 10, ThrottledPeriods: 3, ThrottledTime: 4000},
			},
			Memory: Memory{Cache: 1024,
				Usage: MemoryEntry{Limit: v1Limit, Usage: 4096, Max: 8192, Failcnt: 1},
				Swap:  MemoryEntry{Limit: v1Limit, Usage: 5000, Max: 9000},
				Raw:   map[string]uint64{"cache": 1024, "rss": 3072, "total_cache": 1024}},
			Pids: Pids{Current: 3},
			Blkio: Blkio{
				IoServiceBytesRecursive: []BlkioEntry{{8, 0, "Read", 100}, {8, 0, "Write", 200}, {8, 0, "Sync", 0}},
				IoServicedRecursive:     []BlkioEntry{{8, 0, "Read", 1}, {8, 0, "Write", 2}},
			},
			Hugetlb: map[string]Hugetlb{"2MB": {Usage: 2 << 20, Max: 4 << 20, Failcnt: 1}},
		},
		ooms: 2,
	}, {
		name:  "v2",
		setup: func(t *testing.T) (*fixture, layout) { return v2Fixture(t, allV2) },
		want: Stats{
			CPU: CPU{
				Usage:      CPUUsage{Total: 5000, User: 3000, Kernel: 2000},
				Throttling: Throttling{Periods: 4, ThrottledPeriods: 1, ThrottledTime: 7000},
			},
			Memory: Memory{Cache: 1024,
				Usage: MemoryEntry{Limit: math.MaxUint64, Usage: 4096, Max: 8192, Failcnt: 4},
				Swap:  MemoryEntry{Limit: math.MaxUint64, Usage: 4196},
				Raw:   map[string]uint64{"anon": 3072, "file": 1024}},
			Pids: Pids{Current: 2},
			Blkio: Blkio{
				IoServiceBytesRecursive: []BlkioEntry{{8, 0, "Read", 100}, {8, 0, "Write", 200}},
				IoServicedRecursive:     []BlkioEntry{{8, 0, "Read", 1}, {8, 0, "Write", 2}},
			},
			Hugetlb: map[string]Hugetlb{"2MB": {Usage: 2 << 20, Failcnt: 3}},
		},
		ooms: 1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, l := tt.setup(t)
			m, _ := f.manager(Config{ID: "c1"}, l)
			got, err := m.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Stats:\n got %+v\nwant %+v", *got, tt.want)
			}
			if n, err := m.OOMKills(); n != tt.ooms || err != nil {
				t.Errorf("OOMKills = %d, %v; want %d", n, err, tt.ooms)
			}
		})
	}
}

// The JSON names are runc's, so `events --stats` readers work unchanged.
func TestStatsJSON(t *testing.T) {
	b, err := json.Marshal(Stats{
		CPU:     CPU{Usage: CPUUsage{Percpu: []uint64{1}}, Throttling: Throttling{ThrottledPeriods: 1}},
		Memory:  Memory{Swap: MemoryEntry{Usage: 1}},
		Blkio:   Blkio{IoServiceBytesRecursive: []BlkioEntry{{Op: "Read"}}},
		Hugetlb: map[string]Hugetlb{"2MB": {}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"cpu":{"usage":{"percpu":[1],"kernel":0,"user":0},"throttling":{"throttledPeriods":1}}`,
		`"swap":{"limit":0,"usage":1,"failcnt":0}`, `"ioServiceBytesRecursive":[{"op":"Read"}]`, `"hugetlb":{"2MB":{"failcnt":0}}`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s:\n%s", key, b)
		}
	}
}

func TestParseKeyed(t *testing.T) {
	got, err := parseKeyed(strings.NewReader("anon 3\nfile 4\nmax max\n"))
	want := map[string]uint64{"anon": 3, "file": 4, "max": math.MaxUint64}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"novalue\n", "key x\n"} {
		if _, err := parseKeyed(strings.NewReader(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseIOStat(t *testing.T) {
	b, err := parseIOStat(strings.NewReader("259:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6\n8:16 rbytes=7\n\n"))
	want := Blkio{
		IoServiceBytesRecursive: []BlkioEntry{{259, 0, "Read", 1}, {259, 0, "Write", 2}, {8, 16, "Read", 7}},
		IoServicedRecursive:     []BlkioEntry{{259, 0, "Read", 3}, {259, 0, "Write", 4}},
	}
	if err != nil || !reflect.DeepEqual(b, want) {
		t.Errorf("got %+v, %v", b, err)
	}
	for _, bad := range []string{"x rbytes=1\n", "8:0 rbytes\n", "8:0 rbytes=z\n"} {
		if _, err := parseIOStat(strings.NewReader(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseBlkioV1(t *testing.T) {
	got, err := parseBlkioV1(strings.NewReader("8:0 Read 10\n8:0 Discard 0\nTotal 10\n"))
	want := []BlkioEntry{{8, 0, "Read", 10}, {8, 0, "Discard", 0}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := parseBlkioV1(strings.NewReader("8:0 Read ten\n")); err == nil {
		t.Error("bad value accepted")
	}
}
