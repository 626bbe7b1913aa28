package seccomp

import (
	"errors"
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// cond is one argument comparison of a rule.
type cond struct {
	arg   uint
	op    specs.LinuxSeccompOperator
	value uint64 // the mask for SCMP_CMP_MASKED_EQ
	two   uint64 // the datum for SCMP_CMP_MASKED_EQ, unused otherwise
}

// rule matches when all of its conditions hold (AND).
type rule struct {
	ret   uint32
	conds []cond
}

// syscallRules is what one syscall number does in one ABI: the first rule
// whose conditions hold decides, else the default action (rules are ORed).
type syscallRules struct {
	set    bool // the profile has rules for this number
	uncond bool // rules is one rule without conditions
	rules  []rule
}

// compiler holds a profile on its way to BPF.
type compiler struct {
	defRet   uint32
	enosys   bool // answer syscalls newer than the profile with ENOSYS
	on       [numABIs]bool
	table    [numABIs][]syscallRules // by number, less the x32 bit
	maxNr    [numABIs]int64          // largest number the profile names, -1: none
	notify   bool
	warnings []string
}

// Compile turns a profile into a BPF program. It makes no syscalls. Names a
// syscall table does not know are skipped for that ABI, and reported in
// Program.Warnings when no ABI knows them, as runc does (the profile may name
// syscalls newer than this build).
func Compile(s *specs.LinuxSeccomp) (*Program, error) {
	if s == nil {
		return nil, errors.New("seccomp: no profile")
	}
	return compileHashed(s, ProfileHash(s))
}

func compileHashed(s *specs.LinuxSeccomp, hash string) (*Program, error) {
	c, err := parse(s)
	if err != nil {
		return nil, err
	}
	filter, err := c.generate()
	if err != nil {
		return nil, err
	}
	flags, err := flagBits(s.Flags, c.notify, c.warn)
	if err != nil {
		return nil, err
	}
	return &Program{Filter: filter, Flags: flags, Notify: c.notify, Warnings: c.warnings, hash: hash}, nil
}

func parse(s *specs.LinuxSeccomp) (*compiler, error) {
	c := &compiler{maxNr: [numABIs]int64{-1, -1, -1}}
	var err error
	if c.defRet, err = retValue("defaultAction", s.DefaultAction, s.DefaultErrnoRet); err != nil {
		return nil, err
	}
	// runc refuses this too: every syscall, the runtime's own before
	// execve included, would wait for an agent that has no fd yet.
	if s.DefaultAction == specs.ActNotify {
		return nil, fieldErr("defaultAction", "SCMP_ACT_NOTIFY cannot be the default action")
	}
	c.enosys = wantENOSYS(s.DefaultAction)
	if c.on, err = selectABIs(s.Architectures, c.warn); err != nil {
		return nil, err
	}
	for i := range s.Syscalls {
		if err := c.addSyscall(i, &s.Syscalls[i]); err != nil {
			return nil, err
		}
	}
	if c.notify && s.ListenerPath == "" {
		return nil, fieldErr("listenerPath", "required when a rule is SCMP_ACT_NOTIFY")
	}
	return c, nil
}

// wantENOSYS tells whether syscalls numbered above every syscall the profile
// names get ENOSYS rather than the default action. runc patches its filters
// so (libcontainer/seccomp/patchbpf): with a deny-by-default profile, a
// syscall newer than the profile would otherwise fail with EPERM, and libc
// falls back to an older syscall only on ENOSYS (clone3, faccessat2, ...).
// A permissive default has no such problem.
func wantENOSYS(def specs.LinuxSeccompAction) bool {
	switch def {
	case specs.ActAllow, specs.ActLog, specs.ActTrace:
		return false
	}
	return true
}

func (c *compiler) warn(format string, args ...any) {
	c.warnings = append(c.warnings, "linux.seccomp."+fmt.Sprintf(format, args...))
}

func (c *compiler) addSyscall(i int, sc *specs.LinuxSyscall) error {
	field := fmt.Sprintf("syscalls[%d]", i)
	if len(sc.Names) == 0 {
		return fieldErr(field+".names", "at least one syscall name is required")
	}
	ret, err := retValue(field+".action", sc.Action, sc.ErrnoRet)
	if err != nil {
		return err
	}
	c.notify = c.notify || sc.Action == specs.ActNotify
	rules, err := c.argRules(field, ret, sc.Args)
	if err != nil {
		return err
	}
	for j, name := range sc.Names {
		if name == "" {
			return fieldErr(fmt.Sprintf("%s.names[%d]", field, j), "empty syscall name")
		}
		if !c.addName(name, ret, rules) {
			c.warn("%s.names[%d]: unknown syscall %q ignored", field, j, name)
		}
	}
	return nil
}

// addName adds rules for name in every ABI of the filter that has it. A
// name absent from every x86 ABI but known on another architecture (send,
// recv) is skipped silently, as libseccomp does; it reports whether the name
// is known at all.
func (c *compiler) addName(name string, ret uint32, rules []rule) bool {
	e, known := find(name)
	if !known {
		return false
	}
	for abi := range numABIs {
		nr, ok := e.nr(abi)
		if !ok || !c.on[abi] {
			continue
		}
		c.maxNr[abi] = max(c.maxNr[abi], int64(nr))
		// libseccomp refuses a rule whose action is the default one
		// (seccomp_rule_add(3): EACCES) and runc skips it; it changes
		// nothing anyway.
		if ret != c.defRet {
			c.add(abi, nr, rules)
		}
	}
	return true
}

// add merges rules into a syscall's entry the way libseccomp's db.c does:
// a rule without conditions decides alone; the first such rule wins and
// drops every conditional rule, earlier or later.
func (c *compiler) add(abi abiID, nr uint32, rules []rule) {
	e := c.entry(abi, nr)
	e.set = true
	switch {
	case e.uncond:
	case len(rules[0].conds) == 0:
		e.uncond, e.rules = true, rules[:1]
	default:
		e.rules = append(e.rules, rules...)
	}
}

// entry is the rules for nr, growing the table as needed. A slice indexed
// by number beats a map here: numbers are dense and below 1024 (the x32 bit
// aside), and the spans come out sorted for free.
func (c *compiler) entry(abi abiID, nr uint32) *syscallRules {
	i := int(nr &^ x32Bit)
	if i >= len(c.table[abi]) {
		c.table[abi] = slices.Grow(c.table[abi], max(i+1, 600)-len(c.table[abi]))[:i+1]
	}
	return &c.table[abi][i]
}

// argRules turns a syscall entry's args into rules. Its conditions are
// ANDed, except that conditions on the same argument are ORed, each in a
// rule of its own: runc does that ("revert to old behavior", matchCall in
// libcontainer/seccomp), and profiles written for runc expect it.
func (c *compiler) argRules(field string, ret uint32, args []specs.LinuxSeccompArg) ([]rule, error) {
	conds := make([]cond, 0, len(args))
	var seen [6]bool
	split := false
	for k, a := range args {
		f := fmt.Sprintf("%s.args[%d]", field, k)
		if a.Index >= 6 {
			return nil, fieldErr(f+".index", "%d is out of range: syscalls have 6 arguments", a.Index)
		}
		if _, ok := condOps[a.Op]; !ok {
			return nil, fieldErr(f+".op", "unknown operator %q", a.Op)
		}
		split = split || seen[a.Index]
		seen[a.Index] = true
		conds = append(conds, cond{arg: a.Index, op: a.Op, value: a.Value, two: a.ValueTwo})
	}
	if !split {
		return []rule{{ret: ret, conds: conds}}, nil
	}
	c.warn("%s.args: several conditions on one argument are ORed, as runc does", field)
	rules := make([]rule, len(conds))
	for k := range conds {
		rules[k] = rule{ret: ret, conds: conds[k : k+1]}
	}
	return rules, nil
}
