package hk

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// `hk network`: create (a subnet of its own, chosen or given), ls,
// inspect, rm, prune, and the errors for a taken name, an overlapping
// subnet and a bad name. Nothing is left: no bridge, no record.
func TestNetworkVerbs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bridge networks need root")
	}
	t.Parallel()
	h := newHK(t)
	a, b := uniq("hknet-a-"), uniq("hknet-b-")
	idA := strings.TrimSpace(h.ok("network", "create", a).out)
	t.Cleanup(func() { h.run("network", "rm", a, b) })
	if len(idA) != 64 {
		t.Fatalf("network create printed %q, want a 64-hex ID", idA)
	}
	var ins []struct {
		Name, Id, Subnet, Gateway, Bridge string
		DNSEnabled                        bool
	}
	if err := json.Unmarshal([]byte(h.ok("network", "inspect", a).out), &ins); err != nil || len(ins) != 1 {
		t.Fatalf("network inspect: %v", err)
	}
	if ins[0].Id != idA || !ins[0].DNSEnabled || !strings.HasSuffix(ins[0].Subnet, "/24") {
		t.Errorf("network inspect %s: %+v", a, ins[0])
	}
	h.fails([]string{"network \"" + a + "\": network already exists"}, "network", "create", a)
	h.fails([]string{"overlaps " + ins[0].Subnet + ", in use by network " + a}, "network", "create", "--subnet", ins[0].Subnet, b)
	h.fails([]string{"invalid network name"}, "network", "create", "bad/name")
	h.ok("network", "create", "--internal", b)
	ls := h.ok("network", "ls").out
	if !strings.Contains(ls, a) || !strings.Contains(ls, b) || !strings.HasPrefix(ls, "NETWORK ID") {
		t.Errorf("network ls:\n%s", ls)
	}
	h.ok("network", "rm", a)
	if r := h.ok("network", "prune"); strings.TrimSpace(r.out) != b {
		t.Errorf("network prune removed %q, want %s", r.out, b)
	}
	if r := h.ok("network", "ls", "-q"); strings.TrimSpace(r.out) != "" {
		t.Errorf("networks left: %q", r.out)
	}
	if out, _ := exec.Command("ip", "link", "show", ins[0].Bridge).CombinedOutput(); !strings.Contains(string(out), "does not exist") {
		t.Errorf("bridge %s left: %s", ins[0].Bridge, out)
	}
	h.fails([]string{"no such network"}, "network", "inspect", a)
}
