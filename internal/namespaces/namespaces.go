// Package namespaces holds the facts about Linux namespace types that the
// rest of hako asks: a type's clone(2) flag and its /proc/PID/ns name, the
// order they are joined in, and what a spec's list says about one type
// (Contains, PathOf, IsNew). One table; no other package keeps its own.
package namespaces

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

type fact struct {
	typ  specs.LinuxNamespaceType
	flag uintptr
	name string // the flag's name, as traces show it
	proc string // the name under /proc/PID/ns
}

// facts is every namespace type, in the order they are joined: user first
// (joining it grants the capabilities needed to join the others), mount
// last (the other paths are opened in the old mount namespace).
var facts = [...]fact{
	{specs.UserNamespace, unix.CLONE_NEWUSER, "CLONE_NEWUSER", "user"},
	{specs.IPCNamespace, unix.CLONE_NEWIPC, "CLONE_NEWIPC", "ipc"},
	{specs.UTSNamespace, unix.CLONE_NEWUTS, "CLONE_NEWUTS", "uts"},
	{specs.NetworkNamespace, unix.CLONE_NEWNET, "CLONE_NEWNET", "net"},
	{specs.PIDNamespace, unix.CLONE_NEWPID, "CLONE_NEWPID", "pid"},
	{specs.CgroupNamespace, unix.CLONE_NEWCGROUP, "CLONE_NEWCGROUP", "cgroup"},
	{specs.TimeNamespace, unix.CLONE_NEWTIME, "CLONE_NEWTIME", "time"},
	{specs.MountNamespace, unix.CLONE_NEWNS, "CLONE_NEWNS", "mnt"},
}

func find(t specs.LinuxNamespaceType) (fact, bool) {
	for _, f := range facts {
		if f.typ == t {
			return f, true
		}
	}
	return fact{}, false
}

// Known reports whether t is a namespace type hako knows.
func Known(t specs.LinuxNamespaceType) bool {
	_, ok := find(t)
	return ok
}

// CloneFlag is the CLONE_NEW* flag of t (0 for an unknown type).
func CloneFlag(t specs.LinuxNamespaceType) uintptr {
	f, _ := find(t)
	return f.flag
}

// ProcName is t's name under /proc/PID/ns ("" for an unknown type).
func ProcName(t specs.LinuxNamespaceType) string {
	f, _ := find(t)
	return f.proc
}

// ProcNames lists every /proc/PID/ns name, in join order.
func ProcNames() []string {
	out := make([]string, len(facts))
	for i, f := range facts {
		out[i] = f.proc
	}
	return out
}

// JoinRank is the position of a /proc/PID/ns name in join order (user 0,
// mnt last; an unknown name after all of them).
func JoinRank(proc string) int {
	for i, f := range facts {
		if f.proc == proc {
			return i
		}
	}
	return len(facts)
}

// FlagString names CLONE_NEW* flags as a trace shows them:
// "CLONE_NEWUSER|CLONE_NEWPID", or "(no new namespaces)".
func FlagString(flags uintptr) string {
	var parts []string
	for _, f := range facts {
		if flags&f.flag != 0 {
			parts = append(parts, f.name)
		}
	}
	if len(parts) == 0 {
		return "(no new namespaces)"
	}
	return strings.Join(parts, "|")
}

// Contains reports whether the list has a namespace of type t, new or
// given by path.
func Contains(nss []specs.LinuxNamespace, t specs.LinuxNamespaceType) bool {
	_, ok := PathOf(nss, t)
	return ok
}

// PathOf returns the path the list gives for type t ("" for a new
// namespace) and whether the list has t at all.
func PathOf(nss []specs.LinuxNamespace, t specs.LinuxNamespaceType) (string, bool) {
	for _, ns := range nss {
		if ns.Type == t {
			return ns.Path, true
		}
	}
	return "", false
}

// IsNew reports whether the container gets a new namespace of type t (in
// the list, without a path).
func IsNew(nss []specs.LinuxNamespace, t specs.LinuxNamespaceType) bool {
	p, ok := PathOf(nss, t)
	return ok && p == ""
}

// Joins reports whether the list gives type t by path (a namespace to
// join).
func Joins(nss []specs.LinuxNamespace, t specs.LinuxNamespaceType) bool {
	p, _ := PathOf(nss, t)
	return p != ""
}
