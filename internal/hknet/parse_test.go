package hknet

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParsePort(t *testing.T) {
	lo, lo6 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")
	for _, tc := range []struct {
		in   string
		want []Port
		err  string
	}{
		{in: "80", want: []Port{{CtrPort: 80, Proto: "tcp"}}},
		{in: "8080:80", want: []Port{{HostPort: 8080, CtrPort: 80, Proto: "tcp"}}},
		{in: "127.0.0.1:8080:80/udp", want: []Port{{HostIP: lo, HostPort: 8080, CtrPort: 80, Proto: "udp"}}},
		{in: "127.0.0.1::80", want: []Port{{HostIP: lo, CtrPort: 80, Proto: "tcp"}}},
		{in: "8000-8001:80-81", want: []Port{{HostPort: 8000, CtrPort: 80, Proto: "tcp"}, {HostPort: 8001, CtrPort: 81, Proto: "tcp"}}},
		{in: "8000-8002:80-81", err: "ranges differ"},
		{in: "80/sctp", err: "protocol sctp"},
		{in: "0", err: `port "0"`},
		{in: "99999", err: `port "99999"`},
		{in: "x:8080:80", err: "host address x"},
		{in: "[::1]:8080:80", want: []Port{{HostIP: lo6, HostPort: 8080, CtrPort: 80, Proto: "tcp"}}},
		{in: "[::]::80/udp", want: []Port{{HostIP: netip.IPv6Unspecified(), CtrPort: 80, Proto: "udp"}}},
		{in: "[fe80::1%eth0]:8080:80", err: "host address"},
	} {
		got, err := ParsePort(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePort(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParsePort(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestPickSubnet(t *testing.T) {
	taken := []inUse{{netip.MustParsePrefix("10.89.0.0/24"), "network a"}, {netip.MustParsePrefix("10.89.1.128/25"), "network b"}}
	pick := func(want string, p addrPool, taken []inUse) (string, error) {
		var w netip.Prefix
		if want != "" {
			w = netip.MustParsePrefix(want)
		}
		sub, gw, err := pickSubnet(w, netip.Addr{}, p, taken)
		return sub.String() + " gw " + gw.String(), err
	}
	for _, tc := range []struct {
		want  string
		pool  addrPool
		taken []inUse
		got   string // or the error's text
	}{
		{"", pool, taken, "10.89.2.0/24 gw 10.89.2.1"},
		{"10.89.1.0/24", pool, taken, "overlaps 10.89.1.128/25, in use by network b"},
		{"192.168.77.9/24", pool, taken, "192.168.77.0/24 gw 192.168.77.1"},
		{"", pool, []inUse{{netip.MustParsePrefix("10.89.0.0/16"), "a route of the host"}}, "no free /24"},
		{"fd00:1::/64", pool, nil, "an IPv4 prefix"},
		// IPv6: /64s of fd00:89::/48, skipping the host's routes and other networks.
		{"", pool6, []inUse{{netip.MustParsePrefix("fd00:89::/64"), "network a"}, {netip.MustParsePrefix("fd00:89:0:1::/80"), "a route of the host"}}, "fd00:89:0:2::/64 gw fd00:89:0:2::1"},
		{"2001:db8:1::5/64", pool6, nil, "2001:db8:1::/64 gw 2001:db8:1::1"},
		{"fd00:89::/56", pool6, []inUse{{netip.MustParsePrefix("fd00:89:0:7::/64"), "network c"}}, "overlaps fd00:89:0:7::/64, in use by network c"},
		{"", pool6, []inUse{{netip.MustParsePrefix("fd00:89::/48"), "a route of the host"}}, "no free /64 left in fd00:89::/48"},
		{"10.1.0.0/24", pool6, nil, "an IPv6 prefix"},
		{"fd00:1::/127", pool6, nil, "an IPv6 prefix of /126 or larger"},
		{"fe80::/64", pool6, nil, "link-local"},
	} {
		got, err := pick(tc.want, tc.pool, tc.taken)
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, tc.got) {
			t.Errorf("pickSubnet(%q, pool %s) = %s; want %q", tc.want, tc.pool.Prefix, got, tc.got)
		}
	}
	if _, _, err := pickSubnet(netip.MustParsePrefix("fd00:1::/64"), netip.MustParseAddr("fd00:2::1"), pool6, nil); err == nil || !strings.Contains(err.Error(), "not in subnet") {
		t.Errorf("a gateway outside the subnet: %v", err)
	}
}

// A dual-stack port with no host address is published on 0.0.0.0 and
// [::]; one with an address on that family only, which must be one the
// container has.
func TestBindings(t *testing.T) {
	ports := []Port{{HostPort: 8080, CtrPort: 80, Proto: "tcp"}, {HostIP: netip.MustParseAddr("fd00::2"), HostPort: 9090, CtrPort: 90, Proto: "udp"}}
	got, err := bindings(ports, true)
	if err != nil || portList(got) != "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, [fd00::2]:9090->90/udp" {
		t.Errorf("bindings (dual stack) = %s, %v", portList(got), err)
	}
	if got, err := bindings(ports[:1], false); err != nil || portList(got) != "0.0.0.0:8080->80/tcp" {
		t.Errorf("bindings (IPv4 only) = %s, %v", portList(got), err)
	}
	if _, err := bindings([]Port{{HostIP: netip.IPv6Loopback(), HostPort: 1, CtrPort: 1, Proto: "tcp"}}, true); err == nil || !strings.Contains(err.Error(), "route_localnet") {
		t.Errorf("[::1]: %v", err)
	}
	if _, err := bindings(ports, false); err == nil || !strings.Contains(err.Error(), "needs an IPv6 network") {
		t.Errorf("an IPv6 host address on an IPv4 network: %v", err)
	}
}

func TestFilterResolv(t *testing.T) {
	in := "# generated\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nsearch example.test\noptions edns0\n"
	got, warn, _ := filterResolv([]byte(in))
	want := "# generated\nnameserver 192.0.2.1\nsearch example.test\noptions edns0\n"
	if string(got) != want || !strings.Contains(warn, "127.0.0.53") || strings.Contains(warn, "no name server") {
		t.Errorf("filterResolv: %q, %q", got, warn)
	}
	_, warn, _ = filterResolv([]byte("nameserver 127.0.0.1\n"))
	if !strings.Contains(warn, "no name server") {
		t.Errorf("only loopback servers: warn %q", warn)
	}
}

func TestHostsFile(t *testing.T) {
	a := &Lease{Addr: netip.MustParseAddr("10.89.0.2"), Container: "a", Name: "web", Aliases: []string{"www", "web"}}
	b := &Lease{Addr: netip.MustParseAddr("10.89.0.3"), Container: "b", Name: "db"}
	got := string(hostsFile("abc123", a, []*Lease{a, b}))
	want := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.89.0.2\tabc123 web www\n10.89.0.3\tdb\n"
	if got != want {
		t.Errorf("hostsFile:\n%s\nwant:\n%s", got, want)
	}
	// Dual stack: a line for each address.
	a.Addr6, b.Addr6 = netip.MustParseAddr("fd00:89::2"), netip.MustParseAddr("fd00:89::3")
	got = string(hostsFile("", b, []*Lease{a, b}))
	want = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.89.0.3\tdb\nfd00:89::3\tdb\n10.89.0.2\tweb www\nfd00:89::2\tweb www\n"
	if got != want {
		t.Errorf("hostsFile (dual stack):\n%s\nwant:\n%s", got, want)
	}
}

func TestFindSocket(t *testing.T) {
	// /proc/net/tcp: 127.0.0.1:8080 listening (inode 111), 0.0.0.0:9090
	// established (not a listener), 0.0.0.0:9191 listening (inode 333).
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0
   1: 00000000:2382 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0 100 0 0 10 0
   2: 00000000:23E7 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 333 1 0 100 0 0 10 0
`
	lo := netip.MustParseAddr("127.0.0.1")
	other := netip.MustParseAddr("10.0.0.1")
	for _, tc := range []struct {
		p    Port
		want string
	}{
		{Port{HostPort: 8080}, "111"},
		{Port{HostIP: lo, HostPort: 8080}, "111"},
		{Port{HostIP: other, HostPort: 8080}, ""}, // held on 127.0.0.1 only
		{Port{HostPort: 9090}, ""},                // not listening
		{Port{HostIP: other, HostPort: 9191}, "333"},
	} {
		if got := findSocket(strings.NewReader(table), "tcp", tc.p); got != tc.want {
			t.Errorf("findSocket(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}
