package caps

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// byName is built on first use (not at every hako start).
var byName = sync.OnceValue(func() map[string]capability.Cap {
	m := map[string]capability.Cap{}
	for _, c := range capability.ListKnown() {
		m["CAP_"+strings.ToUpper(c.String())] = c
	}
	return m
})

// Set is a parsed spec capability block.
type Set struct {
	sets map[capability.CapType][]capability.Cap
	spec *specs.LinuxCapabilities
}

// Parse resolves capability names. Names this kernel does not know are
// refused, naming the set and the capability.
func Parse(c *specs.LinuxCapabilities) (*Set, error) {
	s := &Set{sets: map[capability.CapType][]capability.Cap{}, spec: c}
	if c == nil {
		return s, nil
	}
	for _, l := range []struct {
		kind  capability.CapType
		name  string
		names []string
	}{
		{capability.BOUNDING, "bounding", c.Bounding},
		{capability.EFFECTIVE, "effective", c.Effective},
		{capability.PERMITTED, "permitted", c.Permitted},
		{capability.INHERITABLE, "inheritable", c.Inheritable},
		{capability.AMBIENT, "ambient", c.Ambient},
	} {
		for _, n := range l.names {
			v, ok := byName()[strings.ToUpper(n)]
			if !ok {
				return nil, fmt.Errorf("process.capabilities.%s: unknown capability %q", l.name, n)
			}
			s.sets[l.kind] = append(s.sets[l.kind], v)
		}
	}
	return s, nil
}

// Bounding asks which of the set's capabilities are in this process's own
// bounding set (bit n = capability n; bits of capabilities the set does not
// name are 0), for Restrict: one prctl(PR_CAPBSET_READ) per capability
// named, not /proc/self/status (~50 us of the start path) nor every
// capability the kernel knows (each prctl costs microseconds).
func (s *Set) Bounding() (uint64, error) {
	var in, asked uint64
	for _, l := range s.sets {
		for _, c := range l {
			bit := uint64(1) << uint(c)
			if asked&bit != 0 {
				continue
			}
			asked |= bit
			r, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
			if err != nil && err != unix.EINVAL {
				return 0, fmt.Errorf("read bounding set: %w", err)
			}
			if err == nil && r == 1 {
				in |= bit
			}
		}
	}
	return in, nil
}

// Restrict drops the capabilities this process cannot grant because they
// are not in bounding, its own bounding set (e.g. CAP_SYS_RESOURCE on a
// host that withholds it; see Bounding), and returns their names.
// runtime-spec 1.1: such capabilities are logged as a warning, and the
// container still runs.
func (s *Set) Restrict(bounding uint64) []string {
	dropped := map[capability.Cap]bool{}
	for kind, l := range s.sets {
		kept := l[:0]
		for _, c := range l {
			if bounding&(1<<uint(c)) != 0 {
				kept = append(kept, c)
			} else {
				dropped[c] = true
			}
		}
		s.sets[kind] = kept
	}
	var names []string
	for c := range dropped {
		names = append(names, "CAP_"+strings.ToUpper(c.String()))
	}
	sort.Strings(names)
	return names
}

// LastCap is the highest capability this kernel knows.
func LastCap() uint64 {
	last, err := capability.LastCap()
	if err != nil {
		last = capability.CAP_CHECKPOINT_RESTORE
	}
	return uint64(last)
}

func (s *Set) names(kind capability.CapType) string {
	l := s.sets[kind]
	if len(l) == 0 {
		return "(none)"
	}
	out := make([]string, len(l))
	for i, c := range l {
		out[i] = "CAP_" + strings.ToUpper(c.String())
	}
	return strings.Join(out, ",")
}

// Masks are the configured sets as bit masks (bit n = capability n), for
// the init plan, and whether process.capabilities was given at all.
type Masks struct {
	Given                                                bool
	Bounding, Effective, Permitted, Inheritable, Ambient uint64
	Last                                                 uint64 // the highest capability this kernel knows
}

// Masks returns the sets as bit masks; last is the highest capability the
// kernel knows (LastCap).
func (s *Set) Masks(last uint64) Masks {
	m := Masks{Given: s.spec != nil, Last: last}
	for kind, dst := range map[capability.CapType]*uint64{
		capability.BOUNDING: &m.Bounding, capability.EFFECTIVE: &m.Effective,
		capability.PERMITTED: &m.Permitted, capability.INHERITABLE: &m.Inheritable,
		capability.AMBIENT: &m.Ambient,
	} {
		for _, c := range s.sets[kind] {
			*dst |= 1 << uint(c)
		}
	}
	return m
}

// Names lists one set as the trace shows it ("CAP_KILL,CAP_CHOWN" or
// "(none)"); kind is "bounding", "effective", "permitted", "inheritable" or
// "ambient".
func (s *Set) Names(kind string) string {
	return s.names(map[string]capability.CapType{"bounding": capability.BOUNDING, "effective": capability.EFFECTIVE,
		"permitted": capability.PERMITTED, "inheritable": capability.INHERITABLE, "ambient": capability.AMBIENT}[kind])
}
