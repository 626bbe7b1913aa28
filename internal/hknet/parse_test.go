package hknet

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParsePort(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
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
		{in: "::1:8080:80", err: "IPv4 only"},
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
	if p, err := pickSubnet(netip.Prefix{}, taken); err != nil || p.String() != "10.89.2.0/24" {
		t.Errorf("pickSubnet = %v, %v; want 10.89.2.0/24", p, err)
	}
	if _, err := pickSubnet(netip.MustParsePrefix("10.89.1.0/24"), taken); err == nil || !strings.Contains(err.Error(), "overlaps 10.89.1.128/25, in use by network b") {
		t.Errorf("an overlapping --subnet: %v", err)
	}
	if p, err := pickSubnet(netip.MustParsePrefix("192.168.77.9/24"), taken); err != nil || p.String() != "192.168.77.0/24" {
		t.Errorf("a free --subnet: %v, %v", p, err)
	}
	full := []inUse{{netip.MustParsePrefix("10.89.0.0/16"), "a route of the host"}}
	if _, err := pickSubnet(netip.Prefix{}, full); err == nil || !strings.Contains(err.Error(), "no free /24") {
		t.Errorf("a full pool: %v", err)
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
