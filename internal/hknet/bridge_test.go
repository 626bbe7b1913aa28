package hknet

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The whole path, as root, with network namespaces the test makes: two
// containers on a network with names, a published port reached from the
// host's 127.0.0.1 and from a second namespace playing "the outside
// world", outbound NAT seen from that outside, the port-conflict errors,
// and everything gone after Detach, Sweep and Remove.
func TestBridge(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	restoreForward(t)
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Create(CreateOpts{Name: "hknet-test-" + rnd()})
	if err != nil {
		t.Fatal(err)
	}
	idA, idB := "ctra"+rnd(), "ctrb"+rnd()
	t.Cleanup(func() {
		for _, l := range mustLeases(t, s, n) {
			s.Detach(nil, n, l.Container)
		}
		if err := s.Remove(nil, n); err != nil {
			t.Errorf("remove network: %v", err)
		}
		if _, err := netlink.LinkByName(n.Bridge); err == nil {
			t.Errorf("bridge %s left after Remove", n.Bridge)
		}
		if err := delRules(func(cm string) bool {
			if strings.Contains(cm, n.ID) || strings.Contains(cm, idA) || strings.Contains(cm, idB) {
				t.Errorf("rule %q left after Remove", cm)
			}
			return false
		}); err != nil {
			t.Error(err)
		}
	})
	dir := t.TempDir()
	a, b := testNS(t), testNS(t)
	hostsA, hostsB := touch(t, dir, "hostsA"), touch(t, dir, "hostsB")
	lA, err := s.Attach(nil, n, Endpoint{Container: idA, Name: "alpha", Hostname: "ha", Netns: a, Hosts: hostsA,
		Ports: []Port{{HostPort: 0, CtrPort: 8080, Proto: "tcp"}}})
	if err != nil {
		t.Fatal(err)
	}
	lB, err := s.Attach(nil, n, Endpoint{Container: idB, Name: "beta", Aliases: []string{"db"}, Netns: b, Hosts: hostsB})
	if err != nil {
		t.Fatal(err)
	}
	if lA.Addr == lB.Addr || !n.Subnet.Contains(lA.Addr) || lA.Ports[0].HostPort == 0 {
		t.Fatalf("leases: %+v %+v on %s", lA, lB, n.Subnet)
	}
	serve(t, a, ":8080", "alpha")

	// Container to container, by the address the other's /etc/hosts gives.
	if ip := hostsLookup(t, hostsB, "alpha"); ip != lA.Addr.String() {
		t.Errorf("beta's /etc/hosts gives alpha %q, want %s:\n%s", ip, lA.Addr, readFile(hostsB))
	}
	if ip := hostsLookup(t, hostsA, "db"); ip != lB.Addr.String() {
		t.Errorf("alpha's /etc/hosts gives db (beta's alias) %q, want %s", ip, lB.Addr)
	}
	if got := dialIn(t, b, net.JoinHostPort(lA.Addr.String(), "8080")); got != "alpha" {
		t.Errorf("beta -> alpha:8080: %q", got)
	}
	// The published port from the host's loopback.
	hp := fmt.Sprint(lA.Ports[0].HostPort)
	if got := dialIn(t, "", "127.0.0.1:"+hp); got != "alpha" {
		t.Errorf("host 127.0.0.1:%s -> alpha: %q", hp, got)
	}
	// From the outside world, to the host's address on its link.
	w := outside(t)
	if got := dialIn(t, w.ns, net.JoinHostPort(w.hostIP, hp)); got != "alpha" {
		t.Errorf("outside -> %s:%s -> alpha: %q", w.hostIP, hp, got)
	}
	// Outbound NAT: the outside sees the host's address, not alpha's.
	serveRemote(t, w.ns, net.JoinHostPort(w.outIP, "9000"))
	if got := dialIn(t, a, net.JoinHostPort(w.outIP, "9000")); got != w.hostIP {
		t.Errorf("alpha -> outside: seen from %q, want the host's %s (masquerade)", got, w.hostIP)
	}

	// Conflicts: a port another container publishes; a port a program of
	// the host holds. Neither leaves anything behind.
	c := testNS(t)
	idC := "ctrc" + rnd()
	_, err = s.Attach(nil, n, Endpoint{Container: idC, Name: "gamma", Netns: c, Ports: []Port{{HostPort: lA.Ports[0].HostPort, CtrPort: 80, Proto: "tcp"}}})
	var taken *ErrPortTaken
	if !errors.As(err, &taken) || !strings.Contains(err.Error(), "container "+idA[:12]) {
		t.Errorf("a port alpha publishes: %v", err)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	held := uint16(l.Addr().(*net.TCPAddr).Port)
	_, err = s.Attach(nil, n, Endpoint{Container: idC, Name: "gamma", Netns: c, Ports: []Port{{HostPort: held, CtrPort: 80, Proto: "tcp"}}})
	if !errors.As(err, &taken) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d (", os.Getpid())) {
		t.Errorf("a port this test holds: %v", err)
	}
	if s.Find(n, idC) != nil || linkExists(vethName(idC, n)) {
		t.Errorf("a failed Attach left a lease or veth")
	}

	// Detach: alpha's veth, lease and rules go, beta's hosts forget it.
	if err := s.Detach(nil, n, idA); err != nil {
		t.Fatal(err)
	}
	if s.Find(n, idA) != nil || linkExists(lA.Veth) {
		t.Errorf("alpha's lease or veth left after Detach")
	}
	if ports, _ := publishedPorts(); len(portsOf(ports, idA)) > 0 {
		t.Errorf("alpha's port rules left after Detach: %v", ports)
	}
	if strings.Contains(readFile(hostsB), "alpha") {
		t.Errorf("beta's /etc/hosts still lists alpha:\n%s", readFile(hostsB))
	}
	// Sweep: beta's container is gone (say the command that made it died).
	if err := s.Sweep(nil, func(id string) bool { return id != idB }); err != nil {
		t.Fatal(err)
	}
	if s.Find(n, idB) != nil || linkExists(lB.Veth) {
		t.Errorf("Sweep left beta's lease or veth")
	}
}

// Two commands attaching at once never get one address.
func TestAttachConcurrent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	restoreForward(t)
	s, _ := Open(t.TempDir())
	n, err := s.Create(CreateOpts{Name: "hknet-conc-" + rnd()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, l := range mustLeases(t, s, n) {
			s.Detach(nil, n, l.Container)
		}
		s.Remove(nil, n)
	})
	const N = 8
	errs := make(chan error, N)
	for i := 0; i < N; i++ {
		ns := testNS(t)
		go func(i int) {
			_, err := s.Attach(nil, n, Endpoint{Container: fmt.Sprintf("conc%d%s", i, rnd()), Name: fmt.Sprint("c", i), Netns: ns})
			errs <- err
		}(i)
	}
	for i := 0; i < N; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	seen := map[netip.Addr]bool{}
	for _, l := range mustLeases(t, s, n) {
		if seen[l.Addr] {
			t.Errorf("address %s handed out twice", l.Addr)
		}
		seen[l.Addr] = true
	}
	if len(seen) != N {
		t.Errorf("%d leases, want %d", len(seen), N)
	}
}

func rnd() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func mustLeases(t *testing.T, s *Store, n *Network) []*Lease {
	ls, err := s.Leases(n)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func portsOf(published map[string]string, id string) []string {
	var out []string
	for k, owner := range published {
		if owner == id {
			out = append(out, k)
		}
	}
	return out
}

// restoreForward puts net.ipv4.ip_forward and net.ipv6.conf.all.forwarding
// back as the test found them.
func restoreForward(t *testing.T) {
	for _, p := range []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.WriteFile(p, b, 0o644) })
	}
}

func testNS(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "netns")
	if err := NewNetns(nil, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := DelNetns(nil, p); err != nil {
			t.Error(err)
		}
	})
	return p
}

func touch(t *testing.T, dir, name string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func linkExists(name string) bool {
	_, err := netlink.LinkByName(name)
	return err == nil
}

func hostsLookup(t *testing.T, hosts, name string) string {
	sc := bufio.NewScanner(strings.NewReader(readFile(hosts)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		for _, n := range f[1:] {
			if n == name {
				return f[0]
			}
		}
	}
	return ""
}

// inNS runs fn on a thread in the network namespace at path ("" the
// host's); sockets made there stay there.
func inNS(t *testing.T, path string, fn func()) {
	if path == "" {
		fn()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		f, err := os.Open(path)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			t.Error(err)
			return
		}
		fn()
	}()
	<-done
}

// serve answers every connection to addr in ns with text.
func serve(t *testing.T, ns, addr, text string) {
	serveWith(t, ns, addr, func(net.Conn) string { return text })
}

// serveRemote answers each connection with the address it came from.
func serveRemote(t *testing.T, ns, addr string) {
	serveWith(t, ns, addr, func(c net.Conn) string {
		host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		return host
	})
}

// serveWith listens on addr in ns and writes answer(conn) to each
// connection, until the test ends.
func serveWith(t *testing.T, ns, addr string, answer func(net.Conn) string) {
	var l net.Listener
	inNS(t, ns, func() {
		var err error
		if l, err = net.Listen("tcp", addr); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(answer(c)))
			c.Close()
		}
	}()
}

// dialIn connects from ns to addr and returns what it reads (bounded: 3 s).
func dialIn(t *testing.T, ns, addr string) string {
	var c net.Conn
	var err error
	inNS(t, ns, func() { c, err = net.DialTimeout("tcp", addr, 3*time.Second) })
	if err != nil {
		return "dial: " + err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	b := make([]byte, 64)
	k, _ := c.Read(b)
	return string(b[:k])
}

// world is the namespace that plays the rest of the world, linked to the
// host by a veth with an address of each family on each end.
type world struct {
	ns              string
	hostIP, outIP   string // a /30 of 10.250.0.0/16
	hostIP6, outIP6 string // a /64 of fd00:250::/48
}

// outside makes the world: a veth from the host to it on a /30 and a /64
// no route of the host uses (the IPv6 addresses nodad: usable at once).
func outside(t *testing.T) world {
	w := world{ns: testNS(t)}
	h, o := freeNet(t, netlink.FAMILY_V4, netip.MustParsePrefix("10.250.0.0/16"), 30)
	h6, o6 := freeNet(t, netlink.FAMILY_V6, netip.MustParsePrefix("fd00:250::/48"), 64)
	w.hostIP, w.outIP, w.hostIP6, w.outIP6 = h.Addr().String(), o.Addr().String(), h6.Addr().String(), o6.Addr().String()
	name := "hkto" + rnd()
	f, err := os.Open(w.ns)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: "world0", PeerNamespace: netlink.NsFd(int(f.Fd()))}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netlink.LinkDel(veth) })
	for _, a := range []netip.Prefix{h, h6} {
		if err := netlink.AddrAdd(veth, testAddr(a)); err != nil {
			t.Fatal(err)
		}
	}
	netlink.LinkSetUp(veth)
	inNS(t, w.ns, func() {
		l, err := netlink.LinkByName("world0")
		if err != nil {
			t.Error(err)
			return
		}
		for _, a := range []netip.Prefix{o, o6} {
			if err := netlink.AddrAdd(l, testAddr(a)); err != nil {
				t.Error(err)
			}
		}
		netlink.LinkSetUp(l)
		if lo, err := netlink.LinkByName("lo"); err == nil {
			netlink.LinkSetUp(lo)
		}
	})
	return w
}

// freeNet returns the first and second address (with the prefix length)
// of the first subnet of size bits in from that no route of the host
// overlaps.
func freeNet(t *testing.T, family int, from netip.Prefix, bits int) (netip.Prefix, netip.Prefix) {
	taken, err := (&Store{dir: t.TempDir()}).takenPrefixes(family)
	if err != nil {
		t.Fatal(err)
	}
	p, err := chooseSubnet(netip.Prefix{}, addrPool{from, bits}, taken)
	if err != nil {
		t.Fatal(err)
	}
	return netip.PrefixFrom(p.Addr().Next(), bits), netip.PrefixFrom(p.Addr().Next().Next(), bits)
}

func testAddr(p netip.Prefix) *netlink.Addr {
	a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}

// A command killed while writing a lease leaves only a temp file named
// after its container (never an empty lease that no one owns); Sweep
// removes those of containers that are gone, and no other.
func TestSweepTemps(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	s, _ := Open(t.TempDir())
	n, err := s.Create(CreateOpts{Name: "hknet-tmp-" + rnd()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Remove(nil, n) })
	dir := s.leaseDir(n)
	files := map[string]bool{ // name: kept by Sweep
		tempPrefix + "dead1":               false,
		"10.89.0.2" + tempPrefix + "dead2": false,
		tempPrefix + "live":                true,
	}
	for f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sweep(nil, func(id string) bool { return id == "live" }); err != nil {
		t.Fatal(err)
	}
	for f, kept := range files {
		if _, err := os.Stat(filepath.Join(dir, f)); (err == nil) != kept {
			t.Errorf("%s: kept %v, want %v", f, err == nil, kept)
		}
	}
	if ls := mustLeases(t, s, n); len(ls) != 0 {
		t.Errorf("temp files listed as leases: %v", ls)
	}
}
