package hknet

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Port is one published port: -p [IP:][HOST:]CTR[/PROTO].
type Port struct {
	HostIP   netip.Addr `json:"hostIP,omitempty"` // unset: every address of the host
	HostPort uint16     `json:"hostPort"`
	CtrPort  uint16     `json:"containerPort"`
	Proto    string     `json:"proto"` // tcp or udp
}

func (p Port) hostAddrPort() string {
	ip := "0.0.0.0"
	if p.HostIP.IsValid() {
		ip = p.HostIP.String()
	}
	return net.JoinHostPort(ip, strconv.Itoa(int(p.HostPort)))
}

// String is Docker's `docker port` form: 0.0.0.0:8080->80/tcp.
func (p Port) String() string {
	return fmt.Sprintf("%s->%d/%s", p.hostAddrPort(), p.CtrPort, p.Proto)
}

// bindings are the addresses ports are published on, each of one family:
// a port with no host address on every address of each family the
// container has (0.0.0.0, and [::] when v6: it has an IPv6 address; Docker
// does the same for a dual-stack container), one with an address on that
// one, which must be of a family the container has.
func bindings(ports []Port, v6 bool) ([]Port, error) {
	var out []Port
	for _, p := range ports {
		switch {
		case !p.HostIP.IsValid():
			p.HostIP = netip.IPv4Unspecified()
			out = append(out, p)
			if v6 {
				p.HostIP = netip.IPv6Unspecified()
				out = append(out, p)
			}
		case p.HostIP == netip.IPv6Loopback():
			return nil, fmt.Errorf("port %s: [::1] cannot be published: the kernel never routes a packet from the IPv6 loopback address to a container (IPv6 has no route_localnet; Docker needs its userland proxy for it); use 127.0.0.1 or an IPv6 address of the host", p)
		case p.HostIP.Is6() && !v6:
			return nil, fmt.Errorf("port %s: publishing on an IPv6 address needs an IPv6 network (hk network create --ipv6)", p)
		default:
			out = append(out, p)
		}
	}
	return out, nil
}

// CheckPorts fails on a port that cannot be published on n: an IPv6 host
// address on a network without IPv6, or [::1] (see bindings).
func (n *Network) CheckPorts(ports []Port) error {
	_, err := bindings(ports, n.IPv6)
	return err
}

// Bindings are the host addresses and ports l publishes, one per family
// (ps's PORTS, inspect's NetworkSettings.Ports).
func (l *Lease) Bindings() []Port {
	b, _ := bindings(l.Ports, l.Addr6.IsValid())
	return b
}

func portList(ps []Port) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// ParsePort reads one -p value, Docker's forms: CTR, HOST:CTR, IP:HOST:CTR,
// IP::CTR (an IPv6 IP in brackets: [::1]:8080:80), with /tcp or /udp, and ranges (8000-8002:80-82) of equal
// length. A host port left out is 0: FreePorts picks one.
func ParsePort(spec string) ([]Port, error) {
	bad := func(why string) ([]Port, error) {
		return nil, fmt.Errorf("invalid port %q: %s (want [IP:][HOST:]CONTAINER[/tcp|udp])", spec, why)
	}
	s, proto := spec, "tcp"
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s, proto = s[:i], s[i+1:]
		if proto != "tcp" && proto != "udp" {
			return bad("protocol " + proto)
		}
	}
	var ipStr, hostStr, ctrStr string
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		ctrStr = s[i+1:]
		rest := s[:i]
		if j := strings.LastIndexByte(rest, ':'); j >= 0 {
			ipStr, hostStr = rest[:j], rest[j+1:]
		} else {
			hostStr = rest
		}
	} else {
		ctrStr = s
	}
	var ip netip.Addr
	if ipStr != "" {
		a, err := netip.ParseAddr(strings.Trim(ipStr, "[]"))
		if err != nil || a.Zone() != "" {
			return bad("host address " + ipStr)
		}
		ip = a.Unmap()
	}
	c0, c1, err := portRange(ctrStr)
	if err != nil {
		return bad(err.Error())
	}
	h0, h1 := uint16(0), uint16(0)
	if hostStr != "" {
		if h0, h1, err = portRange(hostStr); err != nil {
			return bad(err.Error())
		}
		if h1-h0 != c1-c0 {
			return bad("host and container ranges differ in length")
		}
	}
	var out []Port
	for i := uint16(0); i <= c1-c0; i++ {
		p := Port{HostIP: ip, CtrPort: c0 + i, Proto: proto}
		if h0 != 0 {
			p.HostPort = h0 + i
		}
		out = append(out, p)
	}
	return out, nil
}

func portRange(s string) (uint16, uint16, error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.ParseUint(a, 10, 16)
	if err != nil || lo == 0 {
		return 0, 0, fmt.Errorf("port %q", a)
	}
	hi := lo
	if isRange {
		if hi, err = strconv.ParseUint(b, 10, 16); err != nil || hi < lo {
			return 0, 0, fmt.Errorf("port range %q", s)
		}
	}
	return uint16(lo), uint16(hi), nil
}

// ErrPortTaken: a published port someone holds already.
type ErrPortTaken struct {
	Port Port
	By   string // "container 3f2a...", "pid 812 (nginx)", "another program"
}

func (e *ErrPortTaken) Error() string {
	return fmt.Sprintf("port %d/%s on %s is already in use by %s", e.Port.HostPort, e.Port.Proto, e.Port.hostAddrPort(), e.By)
}

// checkPorts fails on a port that another container publishes (hako's
// table) or a program of the host listens on (/proc/net), naming who; it
// gives a host port to each port without one. Called under the host lock,
// so two commands cannot publish one port.
func checkPorts(ports []Port) error {
	published, err := publishedPorts()
	if err != nil {
		return err
	}
	for i := range ports {
		p := &ports[i]
		if p.HostPort == 0 {
			free, err := freePort(p.Proto)
			if err != nil {
				return err
			}
			p.HostPort = free
		}
		for key, owner := range published {
			proto, hp, _ := strings.Cut(key, " ")
			if proto == p.Proto && overlaps(hp, *p) {
				return &ErrPortTaken{Port: *p, By: "container " + short(owner)}
			}
		}
		if by := listener(p.Proto, *p); by != "" {
			return &ErrPortTaken{Port: *p, By: by}
		}
	}
	return nil
}

// overlaps: published "ip:port" collides with p (same port, and the same
// address or either one on every address).
func overlaps(hp string, p Port) bool {
	ap, err := netip.ParseAddrPort(hp)
	if err != nil || ap.Port() != p.HostPort {
		return false
	}
	return ap.Addr().IsUnspecified() || !p.HostIP.IsValid() || p.HostIP.IsUnspecified() || ap.Addr() == p.HostIP
}

// freePort asks the kernel for an unused port (bind to port 0), as Docker
// does for -p CTR: on [::] where the host has IPv6 (a dual-stack socket,
// so the port is free on both families), else on 0.0.0.0.
func freePort(proto string) (uint16, error) {
	if proto == "udp" {
		c, err := net.ListenPacket("udp", ":0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return uint16(c.LocalAddr().(*net.UDPAddr).Port), nil
	}
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port), nil
}

// listener names the process that holds p (a listening TCP socket or a
// bound UDP one, IPv4 or IPv6), "" when none does.
func listener(proto string, p Port) string {
	// thread-self: /proc/net is the main thread's namespace, which a
	// goroutine that locked it and exited may have left elsewhere.
	for _, f := range []string{"/proc/thread-self/net/" + proto, "/proc/thread-self/net/" + proto + "6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		inode := findSocket(fh, proto, p)
		fh.Close()
		if inode != "" {
			return holder(inode)
		}
	}
	return ""
}

// findSocket returns the inode of the socket in a /proc/net table that
// holds p, or "".
func findSocket(r io.Reader, proto string, p Port) string {
	sc := bufio.NewScanner(r)
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		if proto == "tcp" && f[3] != "0A" { // TCP_LISTEN
			continue
		}
		addr, port, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(port, 16, 16)
		if err != nil || uint16(n) != p.HostPort {
			continue
		}
		if ip := procNetAddr(addr); p.HostIP.IsValid() && !p.HostIP.IsUnspecified() && ip.IsValid() && !ip.IsUnspecified() && ip != p.HostIP {
			continue
		}
		return f[9]
	}
	return ""
}

// procNetAddr decodes /proc/net's hex address (host byte order words).
func procNetAddr(h string) netip.Addr {
	b, err := hex.DecodeString(h)
	if err != nil {
		return netip.Addr{}
	}
	for i := 0; i+4 <= len(b); i += 4 { // each 32-bit word is little-endian
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	a, _ := netip.AddrFromSlice(b)
	return a.Unmap()
}

// holder finds the process with socket inode open: "pid N (comm)".
func holder(inode string) string {
	target := "socket:[" + inode + "]"
	procs, _ := os.ReadDir("/proc")
	for _, pd := range procs {
		if _, err := strconv.Atoi(pd.Name()); err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", pd.Name(), "fd"))
		for _, fd := range fds {
			if l, _ := os.Readlink(filepath.Join("/proc", pd.Name(), "fd", fd.Name())); l == target {
				comm, _ := os.ReadFile(filepath.Join("/proc", pd.Name(), "comm"))
				return fmt.Sprintf("pid %s (%s)", pd.Name(), strings.TrimSpace(string(comm)))
			}
		}
	}
	return "another program (socket inode " + inode + ")"
}
