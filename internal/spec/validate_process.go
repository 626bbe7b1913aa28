package spec

import (
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func (v *validator) process() {
	p := v.s.Process
	if p == nil {
		// runtime-spec lets process be absent only for `create` without
		// `start`; hako always starts one, so it is required.
		v.fail("process", "missing")
		return
	}
	if len(p.Args) == 0 {
		v.fail("process.args", "empty")
	}
	// runtime-spec: cwd MUST be an absolute path.
	if !filepath.IsAbs(p.Cwd) {
		v.fail(fmt.Sprintf("process.cwd %q", p.Cwd), "not an absolute path")
	}
	if p.OOMScoreAdj != nil && (*p.OOMScoreAdj < -1000 || *p.OOMScoreAdj > 1000) {
		v.fail("process.oomScoreAdj", "%d is outside -1000..1000", *p.OOMScoreAdj)
	}
	v.rlimits(p.Rlimits)
	v.capabilities(p.Capabilities)
}

func (v *validator) rlimits(rls []specs.POSIXRlimit) {
	seen := map[string]bool{}
	for i, r := range rls {
		field := fmt.Sprintf("process.rlimits[%d]", i)
		if _, err := RlimitValue(r.Type); err != nil {
			v.fail(field, "unknown type %q", r.Type)
			continue
		}
		field += " (" + r.Type + ")"
		if seen[r.Type] {
			// runtime-spec: entries MUST NOT repeat a type.
			v.fail(field, "duplicate")
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			// setrlimit(2) would fail with EINVAL, after the container is made.
			v.fail(field, "soft limit %d is above hard limit %d", r.Soft, r.Hard)
		}
	}
}

// capabilities rejects names no kernel has. Names newer than this kernel
// pass, as in runc, which skips them with a warning: a config written for a
// newer host (CAP_BPF, CAP_PERFMON) should still run.
func (v *validator) capabilities(c *specs.LinuxCapabilities) {
	if c == nil {
		return
	}
	sets := []struct {
		name  string
		names []string
	}{
		{"bounding", c.Bounding}, {"effective", c.Effective},
		{"inheritable", c.Inheritable}, {"permitted", c.Permitted},
		{"ambient", c.Ambient},
	}
	for _, set := range sets {
		var bad []string
		for _, n := range set.names {
			if !knownCap(n) {
				bad = append(bad, fmt.Sprintf("%q", n))
			}
		}
		if len(bad) > 0 {
			v.fail("process.capabilities."+set.name, "unknown capabilities %s", strings.Join(bad, ", "))
		}
	}
}
