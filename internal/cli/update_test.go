package cli

import (
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1024", 1024, true}, {"16m", 16 << 20, true}, {"16MiB", 16 << 20, true}, {"1g", 1 << 30, true},
		{"512k", 512 << 10, true}, {"1.5k", 1536, true}, {"-1", -1, true}, {"10b", 10, true},
		{"", 0, false}, {"abc", 0, false}, {"-5", 0, false}, {"1x", 0, false},
	} {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseSize(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestUpdateFlagsBuild(t *testing.T) {
	u := updateFlags{memory: "16m", cpuQuota: "20000", cpuPeriod: "100000", pidsLimit: "10", cpusetCpus: "0"}
	r, err := u.build()
	if err != nil {
		t.Fatal(err)
	}
	if *r.Memory.Limit != 16<<20 || *r.CPU.Quota != 20000 || *r.CPU.Period != 100000 || *r.Pids.Limit != 10 || r.CPU.Cpus != "0" {
		t.Fatalf("unexpected resources: %+v %+v %+v", r.Memory, r.CPU, r.Pids)
	}
	u = updateFlags{memory: "lots"}
	if _, err := u.build(); err == nil || !strings.Contains(err.Error(), "--memory") {
		t.Fatalf("bad size: got %v", err)
	}
}
