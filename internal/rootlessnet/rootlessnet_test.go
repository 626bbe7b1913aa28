package rootlessnet

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"hako/internal/hknet"
)

// The helpers are tested as they run for rootless hk: from uid 0 of a
// user namespace (here mapped to the host's root, which this host lets
// open /dev/net/tun, 0600 root; an ordinary user could not), on a
// network namespace that user namespace owns. The test binary re-executes
// itself there (child below); the parent, real root, makes the "outside":
// a namespace with a veth from the host, a TCP server and a DNS server in
// it, and a resolv.conf naming that server, bound over /etc/resolv.conf in
// the child's mount namespace so that the helper's DNS forwarding reaches
// it and nothing else.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == ForwarderVerb { // Start runs /proc/self/exe
		os.Exit(ForwarderMain(os.Args[2:]))
	}
	if kind := os.Getenv("RLNET_CHILD"); kind != "" {
		os.Exit(child(kind))
	}
	os.Exit(m.Run())
}

func TestResolvConf(t *testing.T) {
	host := "# a comment\nnameserver 127.0.0.53\nsearch example.org\noptions edns0 trust-ad\n"
	for kind, want := range map[string]string{
		Pasta:       "search example.org\noptions edns0 trust-ad\nnameserver 169.254.1.1\n",
		Slirp4netns: "search example.org\noptions edns0 trust-ad\nnameserver 10.0.2.3\n",
	} {
		if got := string(ResolvConf(kind, []byte(host))); got != want {
			t.Errorf("%s: %q, want %q", kind, got, want)
		}
	}
}

func TestPastaArgs(t *testing.T) {
	ports := []hknet.Port{{HostPort: 8080, CtrPort: 80, Proto: "tcp"},
		{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 5353, CtrPort: 53, Proto: "udp"}}
	got := strings.Join(pastaArgs("/r/abc", "/r/netns/abc", ports), " ")
	for _, want := range []string{"--netns /r/netns/abc", "--no-map-gw", "-t 8080:80", "-u 127.0.0.1/5353:53", "-T none", "-U none", "--dns-forward 169.254.1.1", "--pid /r/abc.pid"} {
		if !strings.Contains(got, want) {
			t.Errorf("pasta args %q lack %q", got, want)
		}
	}
	if got := strings.Join(pastaArgs("/r/abc", "/n", nil), " "); !strings.Contains(got, "-t none") || !strings.Contains(got, "-u none") {
		t.Errorf("pasta args without ports: %q", got)
	}
}

func TestDefaultRouteIn(t *testing.T) {
	v4 := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	v6lo := "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n"
	for _, c := range []struct {
		text string
		v6   bool
		want bool
	}{
		{v4 + "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", false, true},
		{v4 + "cni0\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n", false, false},
		{v6lo, true, false},
		{v6lo + "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n", true, true},
	} {
		if got := defaultRouteIn(strings.NewReader(c.text), c.v6); got != c.want {
			t.Errorf("defaultRouteIn(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}

// Usable's answer is checked against the kernel's: it opens
// /dev/net/tun exactly when this process can.
func TestUsable(t *testing.T) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR, 0)
	if err == nil {
		unix.Close(fd)
	}
	for _, kind := range Default {
		if _, lerr := exec.LookPath(kind); lerr != nil {
			if uerr := Usable(kind); uerr == nil || !strings.Contains(uerr.Error(), "not installed") {
				t.Errorf("%s missing: Usable says %v", kind, uerr)
			}
			continue
		}
		uerr := Usable(kind)
		if kind == Pasta && !hasDefaultRoute() {
			if uerr == nil || !strings.Contains(uerr.Error(), "no default route") {
				t.Errorf("pasta without a default route: Usable says %v", uerr)
			}
			continue
		}
		if (err == nil) != (uerr == nil) {
			t.Errorf("%s: open /dev/net/tun: %v, Usable: %v", kind, err, uerr)
		}
		if uerr != nil && (!errors.Is(uerr, ErrUnusable) || !strings.Contains(uerr.Error(), "/dev/net/tun")) {
			t.Errorf("%s: Usable's error does not name /dev/net/tun: %v", kind, uerr)
		}
	}
}

// Each helper, end to end: a published port from the host's 127.0.0.1,
// an outbound connection, a DNS query through the helper's DNS address,
// and Stop leaving no process and no file.
func TestHelpers(t *testing.T) {
	for _, kind := range Default {
		t.Run(kind, func(t *testing.T) {
			env := setup(t, kind)
			out, err := runChild(t, kind, env, "check")
			if err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			for _, want := range []string{"published: inside", "forwarded: 200 connections echoed", "port taken: refused, naming the port", "outbound: outside", "dns: 10.1.2.3", "stopped: no process, no files"} {
				if !strings.Contains(out, want+"\n") {
					t.Errorf("%s: no %q in:\n%s", kind, want, out)
				}
			}
		})
	}
}

// BenchmarkStart times Start + Stop of each helper on a fresh namespace
// (the child loops b.N times and reports its own time).
func BenchmarkStart(b *testing.B) {
	for _, kind := range Default {
		b.Run(kind, func(b *testing.B) {
			env := setup(b, kind)
			env = append(env, "RLNET_N="+strconv.Itoa(b.N))
			out, err := runChild(b, kind, env, "bench")
			if err != nil {
				b.Fatalf("%v:\n%s", err, out)
			}
			var ns float64
			if _, err := fmt.Sscanf(out[strings.Index(out, "start+stop ns/op: "):], "start+stop ns/op: %g", &ns); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
			b.ReportMetric(ns, "ns/start+stop")
		})
	}
}

// setup makes the outside world for a child: the environment it needs.
func setup(t testing.TB, kind string) []string {
	if os.Geteuid() != 0 {
		t.Skip("needs root (to make the outside namespace and the user namespace mapped to root)")
	}
	if _, err := exec.LookPath(kind); err != nil {
		t.Skipf("%s is not installed", kind)
	}
	dir := t.TempDir()
	ns, outIP := outside(t, dir)
	serveTCP(t, ns, outIP+":7777", "outside")
	serveDNS(t, ns, outIP+":53", netip.MustParseAddr("10.1.2.3"))
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver "+outIP+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"RLNET_DIR=" + dir, "RLNET_OUT=" + outIP, "RLNET_RESOLV=" + resolv}
}

// runChild runs the test binary as uid 0 of a new user namespace with its
// own mount namespace (bounded: 60 s).
func runChild(t testing.TB, kind string, env []string, what string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, "RLNET_CHILD="+kind, "RLNET_WHAT="+what)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}}, Pdeathsig: unix.SIGKILL}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		return "", err
	}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	return buf.String(), err
}

// child is the user-namespace side: what rootless hk does, then checks.
func child(kind string) int {
	fail := func(f string, a ...any) int { fmt.Printf("FAIL: "+f+"\n", a...); return 1 }
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fail("make / private: %v", err)
	}
	if err := unix.Mount(os.Getenv("RLNET_RESOLV"), "/etc/resolv.conf", "", unix.MS_BIND, ""); err != nil {
		return fail("bind resolv.conf: %v", err)
	}
	dir := os.Getenv("RLNET_DIR")
	if os.Getenv("RLNET_WHAT") == "bench" {
		return childBench(kind, dir)
	}
	id := rnd() + rnd() + rnd()
	ns := filepath.Join(dir, "ctr-netns")
	if err := NewNetns(nil, ns); err != nil {
		return fail("netns: %v", err)
	}
	defer hknet.DelNetns(nil, ns)
	l, err := listenIn(ns, "0.0.0.0:8080")
	if err != nil {
		return fail("listen in the container's namespace: %v", err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("inside"))
			c.Close()
		}
	}()
	el, err := listenIn(ns, "0.0.0.0:8081")
	if err != nil {
		return fail("listen in the container's namespace: %v", err)
	}
	defer el.Close()
	froms := make(chan string, 1024)
	go echo(el, froms)
	hdir := filepath.Join(dir, "rl")
	r, err := Start(nil, Config{Kind: kind, ID: id, Netns: ns, Dir: hdir,
		Ports: []hknet.Port{{HostIP: netip.MustParseAddr("127.0.0.1"), CtrPort: 8080, Proto: "tcp"},
			{HostIP: netip.MustParseAddr("127.0.0.1"), CtrPort: 8081, Proto: "tcp"}}})
	if err != nil {
		return fail("start: %v", err)
	}
	if r.FwdPid == 0 || !isHelper(r.FwdPid, files(hdir, id)) {
		return fail("no forwarder for the TCP ports: %+v", r)
	}
	if r.Ports[0].HostPort == 0 {
		return fail("no host port chosen: %+v", r.Ports)
	}
	if got, err := Load(hdir, id); err != nil || got.Pid != r.Pid || got.Ports[0] != r.Ports[0] {
		return fail("record: %+v, %v; want %+v", got, err, r)
	}
	fmt.Printf("published: %s\n", dial("", "127.0.0.1:"+strconv.Itoa(int(r.Ports[0].HostPort))))
	echoAddr := "127.0.0.1:" + strconv.Itoa(int(r.Ports[1].HostPort))
	fmt.Printf("forwarded: %s\n", echoCheck(echoAddr, froms))
	if err := Start2(kind, hdir, ns, r.Ports[1]); err != nil {
		fmt.Printf("port taken: %v\n", err)
	}
	fmt.Printf("outbound: %s\n", dial(ns, os.Getenv("RLNET_OUT")+":7777"))
	fmt.Printf("dns: %s\n", lookup(ns, DNS(kind).String()+":53", "probe.hako.test"))
	if err := Stop(nil, hdir, id); err != nil {
		return fail("stop: %v", err)
	}
	left, _ := os.ReadDir(hdir)
	if err := unix.Kill(r.Pid, 0); err == nil && !zombie(r.Pid) {
		return fail("pid %d still runs after Stop", r.Pid)
	}
	if err := unix.Kill(r.FwdPid, 0); err == nil && !zombie(r.FwdPid) {
		return fail("forwarder pid %d still runs after Stop", r.FwdPid)
	}
	if c, err := net.Dial("tcp4", echoAddr); err == nil {
		c.Close()
		return fail("%s still accepts after Stop", echoAddr)
	}
	if len(left) != 0 {
		return fail("files left after Stop: %v", left)
	}
	fmt.Println("stopped: no process, no files")
	return 0
}

// childBench starts and stops the helper RLNET_N times, each on a new
// namespace, and prints the mean.
func childBench(kind, dir string) int {
	n, _ := strconv.Atoi(os.Getenv("RLNET_N"))
	var total time.Duration
	for i := 0; i < n; i++ {
		ns := filepath.Join(dir, "bench-netns")
		if err := NewNetns(nil, ns); err != nil {
			fmt.Println("FAIL:", err)
			return 1
		}
		id := rnd() + rnd() + rnd()
		t0 := time.Now()
		_, err := Start(nil, Config{Kind: kind, ID: id, Netns: ns, Dir: filepath.Join(dir, "rl")})
		if err == nil {
			err = Stop(nil, filepath.Join(dir, "rl"), id)
		}
		total += time.Since(t0)
		hknet.DelNetns(nil, ns)
		if err != nil {
			fmt.Println("FAIL:", err)
			return 1
		}
	}
	fmt.Printf("start+stop ns/op: %d\n", int64(total)/int64(max(n, 1)))
	return 0
}

func zombie(pid int) bool {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && len(b) > i+2 && b[i+2] == 'Z'
}

func rnd() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// inNS runs fn on a thread in the network namespace at path ("" this
// one); sockets made there stay there. The thread is never unlocked: it
// dies with its goroutine.
func inNS(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(path)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

func listenIn(ns, addr string) (l net.Listener, err error) {
	err = inNS(ns, func() error { l, err = net.Listen("tcp4", addr); return err })
	return l, err
}

// dial connects from ns to addr and returns what it reads (3 s at most).
func dial(ns, addr string) string {
	var c net.Conn
	err := inNS(ns, func() (err error) { c, err = net.DialTimeout("tcp4", addr, 3*time.Second); return err })
	if err != nil {
		return "dial: " + err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	b := make([]byte, 64)
	k, _ := c.Read(b)
	return string(b[:k])
}

// lookup sends an A query for name to server from ns and returns the
// answer's address (3 tries of 1 s).
func lookup(ns, server, name string) string {
	var c net.Conn
	if err := inNS(ns, func() (err error) { c, err = net.Dial("udp4", server); return err }); err != nil {
		return "dial: " + err.Error()
	}
	defer c.Close()
	q := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, label := range strings.Split(name, ".") {
		q = append(append(q, byte(len(label))), label...)
	}
	q = append(q, 0, 0, 1, 0, 1)
	b := make([]byte, 512)
	for i := 0; i < 3; i++ {
		c.Write(q)
		c.SetReadDeadline(time.Now().Add(time.Second))
		k, err := c.Read(b)
		if err == nil && k >= len(q)+16 && binary.BigEndian.Uint16(b[6:]) == 1 {
			return netip.AddrFrom4([4]byte(b[k-4 : k])).String()
		}
	}
	return "no answer"
}

// serveDNS answers every A query on addr in ns with ip (a DNS server of
// one record, the test's stand-in for the host's resolver).
func serveDNS(t testing.TB, ns, addr string, ip netip.Addr) {
	var pc net.PacketConn
	if err := inNS(ns, func() (err error) { pc, err = net.ListenPacket("udp4", addr); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		b := make([]byte, 512)
		for {
			k, from, err := pc.ReadFrom(b)
			if err != nil {
				return
			}
			if k < 12 {
				continue
			}
			resp := append([]byte(nil), b[:k]...)
			resp[2], resp[3] = 0x81, 0x80           // a response, recursion available
			binary.BigEndian.PutUint16(resp[6:], 1) // one answer
			resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
			resp = append(resp, ip.AsSlice()...)
			pc.WriteTo(resp, from)
		}
	}()
}

func serveTCP(t testing.TB, ns, addr, text string) {
	l, err := listenIn(ns, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(text))
			c.Close()
		}
	}()
}

// outside makes the namespace that plays the rest of the world: a veth
// from the host to it on a /30 of 10.251.0.0/16 no address or route of
// the host overlaps. It returns the namespace and its address.
func outside(t testing.TB, dir string) (string, string) {
	ns := filepath.Join(dir, "outside")
	if err := hknet.NewNetns(nil, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hknet.DelNetns(nil, ns) })
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var p netip.Prefix
	for i := 0; i < 64 && !p.IsValid(); i++ {
		var b [2]byte
		rand.Read(b[:])
		c := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 251, b[0], b[1] &^ 3}), 30)
		free := true
		for _, r := range routes {
			if r.Dst != nil {
				rp, _ := netip.AddrFromSlice(r.Dst.IP.To4())
				ones, _ := r.Dst.Mask.Size()
				free = free && (ones == 0 || !netip.PrefixFrom(rp, ones).Overlaps(c)) // not the default route
			}
		}
		if free {
			p = c
		}
	}
	if !p.IsValid() {
		t.Fatal("no free /30 in 10.251.0.0/16")
	}
	h, o := p.Addr().Next(), p.Addr().Next().Next()
	f, err := os.Open(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "hkrl" + rnd()}, PeerName: "world0", PeerNamespace: netlink.NsFd(int(f.Fd()))}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netlink.LinkDel(veth) })
	if err := netlink.AddrAdd(veth, &netlink.Addr{IPNet: &net.IPNet{IP: h.AsSlice(), Mask: net.CIDRMask(30, 32)}}); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(veth); err != nil {
		t.Fatal(err)
	}
	err = inNS(ns, func() error {
		l, err := netlink.LinkByName("world0")
		if err != nil {
			return err
		}
		if err := netlink.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: o.AsSlice(), Mask: net.CIDRMask(30, 32)}}); err != nil {
			return err
		}
		if err := netlink.LinkSetUp(l); err != nil {
			return err
		}
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(lo)
	})
	if err != nil {
		t.Fatal(err)
	}
	return ns, o.String()
}

// echo serves l: each connection gets back what it sent, then a half
// close; the address each came from goes to froms.
func echo(l net.Listener, froms chan<- string) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		select {
		case froms <- c.RemoteAddr().(*net.TCPAddr).IP.String():
		default:
		}
		go func() {
			defer c.Close()
			io.Copy(c, c)
			c.(*net.TCPConn).CloseWrite()
		}()
	}
}

// echoCheck sends through the forwarded port at addr: 200 connections,
// 8 at a time, each 64 KiB (one of 16 MiB) of random data, and checks
// every byte comes back and that the container saw them come from its
// own address, not 127.0.0.1.
func echoCheck(addr string, froms <-chan string) string {
	const conns, par = 200, 8
	errc := make(chan error, conns)
	sem := make(chan struct{}, par)
	for i := 0; i < conns; i++ {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			size := 64 << 10
			if i == 0 {
				size = 16 << 20
			}
			errc <- echoOnce(addr, size)
		}()
	}
	for i := 0; i < conns; i++ {
		if err := <-errc; err != nil {
			return "echo: " + err.Error()
		}
	}
	from := <-froms
	if from == "127.0.0.1" {
		return "the container saw the connection come from 127.0.0.1"
	}
	return fmt.Sprintf("%d connections echoed", conns)
}

func echoOnce(addr string, size int) error {
	c, err := net.DialTimeout("tcp4", addr, 3*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	out := make([]byte, size)
	rand.Read(out)
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(out)
		c.(*net.TCPConn).CloseWrite()
		werr <- err
	}()
	in, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if err := <-werr; err != nil {
		return err
	}
	if !bytes.Equal(in, out) {
		return fmt.Errorf("sent %d bytes, got %d back, not the same", len(out), len(in))
	}
	return nil
}

// Start2 starts a second container's helper on host port p, which the
// first one's forwarder holds: it must fail, naming the port, and leave
// nothing behind (its own netns is removed here).
func Start2(kind, hdir, ns string, p hknet.Port) error {
	ns2 := ns + "-2"
	if err := NewNetns(nil, ns2); err != nil {
		return err
	}
	defer hknet.DelNetns(nil, ns2)
	id := rnd() + rnd() + rnd()
	before, _ := os.ReadDir(hdir)
	_, err := Start(nil, Config{Kind: kind, ID: id, Netns: ns2, Dir: hdir, Ports: []hknet.Port{p}})
	if err == nil {
		Stop(nil, hdir, id)
		return errors.New("FAIL: a second forwarder took a port already published")
	}
	if after, _ := os.ReadDir(hdir); len(after) != len(before) {
		return fmt.Errorf("FAIL: files left after a failed start: %v (before: %v)", after, before)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(int(p.HostPort))) {
		return fmt.Errorf("FAIL: error does not name port %d: %v", p.HostPort, err)
	}
	return errors.New("refused, naming the port")
}

// The forwarder's own bind failure (a port taken between choosePorts and
// the forwarder, which choosePorts cannot see): a clear error naming the
// port, no process and no file left.
func TestForwarderPortTaken(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	dir := t.TempDir()
	r := &Record{ID: "fwdtaken" + rnd(), Netns: filepath.Join(dir, "no-netns")}
	err = startForwarder(nil, dir, r, []hknet.Port{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: port, CtrPort: 80, Proto: "tcp"}})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:"+strconv.Itoa(int(port))) || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("forwarder on a taken port: %v", err)
	}
	if r.FwdPid == 0 {
		t.Fatal("no forwarder pid recorded")
	}
	if err := Stop(nil, dir, r.ID); err != nil {
		t.Error(err)
	}
	if !gone(r.FwdPid) {
		t.Errorf("forwarder pid %d still runs", r.FwdPid)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
}
