package hk

import (
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/userdata"
)

// A dual-stack network (--ipv6), as root, end to end: containers get an
// address of each family; one reaches another by name over IPv6; a
// published port is reached over IPv6 from a namespace playing the
// outside world and from the host (the host's IPv6 address), while [::1]
// is refused at once (not published: docs/networking.md); a container's
// IPv6 connection to the outside arrives from the host's IPv6 address
// (masquerade); ps and inspect show the IPv6 address and bindings; rm and
// network rm leave no lease, veth or rule in either table.
func TestNetworkIPv6(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bridge networks need root")
	}
	t.Parallel()
	h := newHK(t)
	img := boxImage(t, h, "net6box:1")
	net1 := uniq("hknet-v6-")
	id := strings.TrimSpace(h.ok("network", "create", "--ipv6", net1).out)
	t.Cleanup(func() { h.run("network", "rm", net1) })
	var nins []struct {
		EnableIPv6 bool
		IPAM       struct {
			Config []struct{ Subnet, Gateway string }
		}
		Containers map[string]struct{ IPv6Address string }
	}
	if err := json.Unmarshal([]byte(h.ok("network", "inspect", net1).out), &nins); err != nil || len(nins) != 1 || len(nins[0].IPAM.Config) != 2 {
		t.Fatalf("network inspect %s: %v %+v", net1, err, nins)
	}
	sub6, err := netip.ParsePrefix(nins[0].IPAM.Config[1].Subnet)
	if !nins[0].EnableIPv6 || err != nil || sub6.Bits() != 64 || !netip.MustParsePrefix("fd00:89::/48").Contains(sub6.Addr()) {
		t.Fatalf("network inspect %s: %+v", net1, nins[0])
	}
	web := uniq("web6-")
	t.Cleanup(func() { h.run("rm", "-f", web) })
	h.ok("run", "-d", "--name", web, "--network", net1, "-p", "80", img, "sh", "-c",
		`mkdir -p /www/cgi-bin && printf '#!/bin/sh\necho Content-Type: text/plain\necho\necho "$REMOTE_ADDR"\n' > /www/cgi-bin/ra && chmod +x /www/cgi-bin/ra && echo hello-`+web+` > /www/index.html && exec httpd -f -p 80 -h /www`)
	want := "hello-" + web + "\n"

	// inspect and ps: the IPv6 address, and the port on 0.0.0.0 and [::].
	var ins []struct {
		NetworkSettings struct {
			Ports    map[string][]struct{ HostIp, HostPort string }
			Networks map[string]struct {
				IPAddress, GlobalIPv6Address, IPv6Gateway string
				GlobalIPv6PrefixLen                       int
			}
		}
	}
	if err := json.Unmarshal([]byte(h.ok("inspect", web).out), &ins); err != nil || len(ins) != 1 {
		t.Fatalf("inspect %s: %v", web, err)
	}
	ep := ins[0].NetworkSettings.Networks[net1]
	addr6, err := netip.ParseAddr(ep.GlobalIPv6Address)
	if err != nil || !sub6.Contains(addr6) || ep.GlobalIPv6PrefixLen != 64 || ep.IPv6Gateway != nins[0].IPAM.Config[1].Gateway || ep.IPAddress == "" {
		t.Errorf("inspect %s: network settings %+v", web, ep)
	}
	if err := json.Unmarshal([]byte(h.ok("network", "inspect", net1).out), &nins); err != nil || len(nins) != 1 || len(nins[0].Containers) != 1 {
		t.Fatalf("network inspect %s with %s on it: %v %+v", net1, web, err, nins)
	}
	for _, c := range nins[0].Containers {
		if c.IPv6Address != addr6.String()+"/64" {
			t.Errorf("network inspect %s: member's IPv6Address %q, want %s/64", net1, c.IPv6Address, addr6)
		}
	}
	b := ins[0].NetworkSettings.Ports["80/tcp"]
	if len(b) != 2 || b[0].HostIp != "0.0.0.0" || b[1].HostIp != "::" || b[0].HostPort != b[1].HostPort {
		t.Fatalf("inspect %s: port bindings %+v, want 0.0.0.0 and :: on one port", web, b)
	}
	port := b[0].HostPort
	if ps := h.ok("ps").out; !strings.Contains(ps, "[::]:"+port+"->80/tcp") {
		t.Errorf("ps: no [::]:%s->80/tcp:\n%s", port, ps)
	}

	// By name over IPv6, from another container: ping6 resolves the name
	// (AF_INET6) and gets an answer; wget to the IPv6 address /etc/hosts
	// gives for it (busybox's wget prefers IPv4 for a name) is seen from
	// the client's IPv6 address.
	r := netRetry(t, func() result {
		r := h.run("run", "--rm", "--network", net1, img, "sh", "-c", "ping6 -c1 -W2 "+web+" && a=$(grep -w "+web+" /etc/hosts | grep : | cut -f1) && timeout 5 wget -qO- http://[$a]/cgi-bin/ra")
		if a, err := netip.ParseAddr(strings.Trim(lastLine(r.out), "[]")); err == nil && sub6.Contains(a) {
			r.out = "v6"
		}
		return r
	}, "v6")
	if r.out != "v6" {
		t.Errorf("ping6 %s and wget its IPv6 address from another container: want it seen from an address of %s: %s", web, sub6, r)
	}

	// The published port over IPv6: from the outside and from the host to
	// the host's IPv6 address on the link to the outside; [::1] refused.
	out := netOutside(t)
	hp6 := net.JoinHostPort(out.hostIP6, port)
	if got := netGet(t, out.ns, hp6); got != want {
		t.Errorf("from the outside namespace to %s: %q", hp6, got)
	}
	if got := netGet(t, "", hp6); got != want {
		t.Errorf("from the host to %s: %q", hp6, got)
	}
	if c, err := net.Dial("tcp", "[::1]:"+port); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("[::1]:%s: %v, want connection refused", port, err)
		if c != nil {
			c.Close()
		}
	}
	// Outbound over IPv6: the outside sees the host's IPv6 address.
	r = h.run("run", "--rm", "--network", net1, img, "timeout", "5", "wget", "-qO-", "http://"+net.JoinHostPort(out.outIP6, "8000")+"/cgi-bin/ra")
	if strings.Trim(strings.TrimSpace(r.out), "[]") != out.hostIP6 {
		t.Errorf("container -> outside over IPv6: seen from %s, want the host's %s (masquerade)", r, out.hostIP6)
	}

	// Ports that cannot be: [::1], and an IPv6 address on an IPv4 network.
	// Neither leaves a container behind.
	bad := uniq("bad6-")
	h.fails([]string{"[::1] cannot be published", "route_localnet"}, "run", "-d", "--name", bad, "--network", net1, "-p", "[::1]:8080:80", img, "true")
	h.fails([]string{"needs an IPv6 network"}, "run", "-d", "--name", bad, "-p", "[fd00::2]:8080:80", img, "true")
	if ps := h.ok("ps", "-a").out; strings.Contains(ps, bad) {
		t.Errorf("a refused run left its container:\n%s", ps)
	}

	// rm: both leases, both tables' rules.
	h.ok("rm", "-f", web)
	if ents, _ := os.ReadDir(filepath.Join(h.root, "networks", net1, "leases")); len(ents) != 0 {
		t.Errorf("leases left after rm: %v", ents)
	}
	if got := netGet(t, out.ns, hp6); got == want {
		t.Errorf("the published port still answers over IPv6 after rm")
	}
	h.ok("network", "rm", net1)
	if left := hakoRulesOf(t, id); len(left) > 0 {
		t.Errorf("rules of network %s left after network rm: %v", net1, left)
	}
}

// The default network has no IPv6, as Docker's default bridge; made with
// --ipv6 before its first use, it has, as Docker's with "ipv6": true in
// daemon.json.
func TestNetworkIPv6Default(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bridge networks need root")
	}
	t.Parallel()
	for _, dual := range []bool{false, true} {
		h := newHK(t)
		img := boxImage(t, h, "net6def:1")
		if dual {
			h.ok("network", "create", "--ipv6", "bridge")
		}
		r := h.ok("run", "--rm", img, "ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "global")
		if has := strings.Contains(r.out, "inet6 fd00:89:"); has != dual {
			t.Errorf("default network made with --ipv6=%v: eth0's global IPv6 addresses: %q", dual, r.out)
		}
	}
}

// `hk network create` with IPv6 subnets: an IPv6 --subnet implies
// --ipv6 (podman's way), a second one of a family, an overlap, a wrong
// gateway and a link-local prefix are errors that leave no network; ls
// shows both subnets.
func TestNetworkIPv6Verbs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bridge networks need root")
	}
	t.Parallel()
	h := newHK(t)
	a, b := uniq("hknet6-a-"), uniq("hknet6-b-")
	t.Cleanup(func() { h.run("network", "rm", a, b) })
	// hk prints prefixes in their canonical form (no leading zeros: a
	// random group 0e70 is e70), so the test compares with that.
	sub := netip.MustParsePrefix("fd00:89:ff:" + a[len(a)-4:] + "::/64").String()
	h.ok("network", "create", "--subnet", sub, "--gateway", strings.TrimSuffix(sub, "/64")+"fe", a)
	var ins []struct {
		EnableIPv6 bool
		IPAM       struct {
			Config []struct{ Subnet, Gateway string }
		}
	}
	if err := json.Unmarshal([]byte(h.ok("network", "inspect", a).out), &ins); err != nil || len(ins) != 1 || len(ins[0].IPAM.Config) != 2 ||
		!ins[0].EnableIPv6 || ins[0].IPAM.Config[1].Subnet != sub || ins[0].IPAM.Config[1].Gateway != strings.TrimSuffix(sub, "/64")+"fe" {
		t.Fatalf("network inspect %s: %v %+v", a, err, ins)
	}
	if ls := h.ok("network", "ls").out; !strings.Contains(ls, ","+sub) {
		t.Errorf("network ls lacks %s:\n%s", sub, ls)
	}
	h.fails([]string{"overlaps " + sub + ", in use by network " + a}, "network", "create", "--ipv6", "--subnet", sub, b)
	h.fails([]string{"one subnet of each family"}, "network", "create", "--subnet", "fd00:1::/64", "--subnet", "fd00:2::/64", b)
	h.fails([]string{"is not in subnet"}, "network", "create", "--subnet", "fd00:1::/64", "--gateway", "fd00:2::1", b)
	h.fails([]string{"link-local"}, "network", "create", "--subnet", "fe80::/64", b)
	h.fails([]string{"no such network"}, "network", "inspect", b)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// hakoRulesOf lists the comments of the rules in hako's tables (ip and
// ip6) that mention id.
func hakoRulesOf(t *testing.T, id string) []string {
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fam := range []nftables.TableFamily{nftables.TableFamilyIPv4, nftables.TableFamilyIPv6} {
		chs, err := c.ListChainsOfTableFamily(fam)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range chs {
			if ch.Table.Name != "hako" {
				continue
			}
			rules, _ := c.GetRules(ch.Table, ch)
			for _, r := range rules {
				if cm, _ := userdata.GetString(r.UserData, userdata.TypeComment); strings.Contains(cm, id) {
					out = append(out, cm)
				}
			}
		}
	}
	return out
}
