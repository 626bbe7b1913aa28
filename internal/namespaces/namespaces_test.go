package namespaces

import (
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Every type runtime-spec names has a flag, a /proc name the kernel
// shows for this process, and a distinct flag.
func TestFacts(t *testing.T) {
	seen := map[uintptr]bool{}
	for _, typ := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.NetworkNamespace, specs.MountNamespace,
		specs.IPCNamespace, specs.UTSNamespace, specs.UserNamespace, specs.CgroupNamespace, specs.TimeNamespace} {
		f := CloneFlag(typ)
		if f == 0 || seen[f] {
			t.Errorf("%s: flag %#x missing or shared", typ, f)
		}
		seen[f] = true
		if _, err := os.Readlink("/proc/self/ns/" + ProcName(typ)); err != nil {
			t.Errorf("%s: /proc/self/ns/%s: %v", typ, ProcName(typ), err)
		}
	}
	if Known("foo") || CloneFlag("foo") != 0 || ProcName("foo") != "" {
		t.Error("an unknown type has facts")
	}
	if JoinRank("user") != 0 || JoinRank("mnt") != len(ProcNames())-1 {
		t.Errorf("join order: user %d, mnt %d", JoinRank("user"), JoinRank("mnt"))
	}
}

func TestList(t *testing.T) {
	nss := []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace, Path: "/run/netns/x"}}
	if !Contains(nss, specs.PIDNamespace) || !Contains(nss, specs.NetworkNamespace) || Contains(nss, specs.UserNamespace) {
		t.Error("Contains")
	}
	if !IsNew(nss, specs.PIDNamespace) || IsNew(nss, specs.NetworkNamespace) || IsNew(nss, specs.UserNamespace) {
		t.Error("IsNew")
	}
	if Joins(nss, specs.PIDNamespace) || !Joins(nss, specs.NetworkNamespace) {
		t.Error("Joins")
	}
	if p, ok := PathOf(nss, specs.NetworkNamespace); p != "/run/netns/x" || !ok {
		t.Errorf("PathOf = %q, %v", p, ok)
	}
	if got := FlagString(unix.CLONE_NEWPID | unix.CLONE_NEWUSER | unix.CLONE_NEWNS); got != "CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNS" {
		t.Errorf("FlagString = %q", got)
	}
	if got := FlagString(0); got != "(no new namespaces)" {
		t.Errorf("FlagString(0) = %q", got)
	}
}
