package hknet

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
)

// A dual-stack network (--ipv6), as root, with namespaces the test makes:
// each container gets an address of both families; they reach each other
// over IPv6 by the address their /etc/hosts gives for the other's name; a
// published port is reached over IPv6 from the host and from the outside
// world (the host's IPv6 address on the link to it); a connection from a
// container to the outside over IPv6 arrives from the host's IPv6 address
// (masquerade); and after Detach, Sweep and Remove no lease, veth, rule or
// bridge is left, in either table.
func TestBridgeIPv6(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	restoreForward(t)
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Create(CreateOpts{Name: "hknet-v6-" + rnd(), IPv6: true})
	if err != nil {
		t.Fatal(err)
	}
	if !n.IPv6 || !pool6.Contains(n.Subnet6.Addr()) || n.Subnet6.Bits() != 64 || n.Gateway6 != n.Subnet6.Addr().Next() {
		t.Fatalf("network: %+v", n)
	}
	idA, idB := "ctra"+rnd(), "ctrb"+rnd()
	t.Cleanup(func() {
		for _, l := range mustLeases(t, s, n) {
			s.Detach(nil, n, l.Container)
		}
		if err := s.Remove(nil, n); err != nil {
			t.Errorf("remove network: %v", err)
		}
		if linkExists(n.Bridge) {
			t.Errorf("bridge %s left after Remove", n.Bridge)
		}
		delRules(func(cm string) bool {
			if strings.Contains(cm, n.ID) || strings.Contains(cm, idA) || strings.Contains(cm, idB) {
				t.Errorf("rule %q left after Remove", cm)
			}
			return false
		})
	})
	dir := t.TempDir()
	a, b := testNS(t), testNS(t)
	hostsA, hostsB := touch(t, dir, "hostsA"), touch(t, dir, "hostsB")
	lA, err := s.Attach(nil, n, Endpoint{Container: idA, Name: "alpha", Netns: a, Hosts: hostsA,
		Ports: []Port{{CtrPort: 8080, Proto: "tcp"}}})
	if err != nil {
		t.Fatal(err)
	}
	lB, err := s.Attach(nil, n, Endpoint{Container: idB, Name: "beta", Netns: b, Hosts: hostsB})
	if err != nil {
		t.Fatal(err)
	}
	if !n.Subnet6.Contains(lA.Addr6) || !n.Subnet6.Contains(lB.Addr6) || lA.Addr6 == lB.Addr6 || !n.Subnet.Contains(lA.Addr) {
		t.Fatalf("leases: %+v %+v on %s", lA, lB, n.subnets())
	}
	if got := portList(lA.Bindings()); got != fmt.Sprintf("0.0.0.0:%d->8080/tcp, [::]:%d->8080/tcp", lA.Ports[0].HostPort, lA.Ports[0].HostPort) {
		t.Errorf("alpha's bindings: %s", got)
	}
	serve(t, a, ":8080", "alpha") // [::]:8080, both families

	// Container to container over IPv6, by name.
	ip6 := hostsLookupAll(t, hostsB, "alpha")
	if len(ip6) != 2 || ip6[1] != lA.Addr6.String() {
		t.Fatalf("beta's /etc/hosts gives alpha %v, want %s and %s:\n%s", ip6, lA.Addr, lA.Addr6, readFile(hostsB))
	}
	if got := dialIn(t, b, net.JoinHostPort(ip6[1], "8080")); got != "alpha" {
		t.Errorf("beta -> [alpha]:8080: %q", got)
	}
	// The published port over IPv6: from the outside world to the host's
	// IPv6 address on its link, and from the host to that address.
	hp := fmt.Sprint(lA.Ports[0].HostPort)
	w := outside(t)
	if got := dialIn(t, w.ns, net.JoinHostPort(w.hostIP6, hp)); got != "alpha" {
		t.Errorf("outside -> [%s]:%s -> alpha: %q", w.hostIP6, hp, got)
	}
	if got := dialIn(t, "", net.JoinHostPort(w.hostIP6, hp)); got != "alpha" {
		t.Errorf("host -> [%s]:%s -> alpha: %q", w.hostIP6, hp, got)
	}
	// [::1] is not published (no route_localnet for IPv6): refused at
	// once rather than a SYN that vanishes.
	if got := dialIn(t, "", "[::1]:"+hp); !strings.Contains(got, "connection refused") {
		t.Errorf("host -> [::1]:%s: %q, want connection refused", hp, got)
	}
	// Outbound NAT over IPv6: the outside sees the host's address.
	serveRemote(t, w.ns, net.JoinHostPort(w.outIP6, "9000"))
	if got := dialIn(t, a, net.JoinHostPort(w.outIP6, "9000")); got != w.hostIP6 {
		t.Errorf("alpha -> outside over IPv6: seen from %q, want the host's %s (masquerade)", got, w.hostIP6)
	}

	// Detach: alpha's leases (both), veth and rules (both tables) go.
	if err := s.Detach(nil, n, idA); err != nil {
		t.Fatal(err)
	}
	if s.Find(n, idA) != nil || linkExists(lA.Veth) || fileExists(s, n, lA.Addr6.String()) {
		t.Errorf("alpha's lease, IPv6 lease or veth left after Detach")
	}
	if ports, _ := publishedPorts(); len(portsOf(ports, idA)) > 0 {
		t.Errorf("alpha's port rules left after Detach: %v", ports)
	}
	if strings.Contains(readFile(hostsB), "alpha") {
		t.Errorf("beta's /etc/hosts still lists alpha:\n%s", readFile(hostsB))
	}
	// Sweep of a half-done attach: an IPv6 lease alone, its container gone.
	orphan := &Lease{Container: "dead" + rnd()}
	if err := s.take(n, n.Subnet6, n.Gateway6, orphan, &orphan.Addr); err != nil {
		t.Fatal(err)
	}
	if err := s.Sweep(nil, func(id string) bool { return id != idB && id != orphan.Container }); err != nil {
		t.Fatal(err)
	}
	if s.Find(n, idB) != nil || linkExists(lB.Veth) || fileExists(s, n, lB.Addr6.String()) || fileExists(s, n, orphan.Addr.String()) {
		t.Errorf("Sweep left beta's leases or veth, or the orphan IPv6 lease")
	}
}

func fileExists(s *Store, n *Network, name string) bool {
	_, err := os.Stat(s.leaseDir(n) + "/" + name)
	return err == nil
}

// hostsLookupAll returns every address hosts gives name, in file order.
func hostsLookupAll(t *testing.T, hosts, name string) []string {
	var out []string
	for _, line := range strings.Split(readFile(hosts), "\n") {
		f := strings.Fields(line)
		for i := 1; i < len(f); i++ {
			if f[i] == name {
				out = append(out, f[0])
			}
		}
	}
	return out
}
