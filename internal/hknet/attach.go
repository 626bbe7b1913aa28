package hknet

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"hako/internal/trace"
)

// Endpoint is a container as Attach needs it.
type Endpoint struct {
	Container string // ID
	Name      string // its name, what the other members call it
	Hostname  string
	Aliases   []string // --network-alias
	Netns     string   // path of its network namespace (NewNetns)
	Ifname    string   // "" is eth0
	// Hosts is its /etc/hosts on the host, bind-mounted into it; Attach
	// writes it, and rewrites every member's as members come and go.
	Hosts string
	Ports []Port
	// NoRoute: no default route (a second network of the container's).
	NoRoute bool
}

// Attach connects ep to n: bridge (made on first use), address, veth,
// route, published ports. On failure everything it made is undone.
func (s *Store) Attach(log *trace.Log, n *Network, ep Endpoint) (_ *Lease, err error) {
	if ep.Ifname == "" {
		ep.Ifname = "eth0"
	}
	br, err := ensureBridge(log, n)
	if err != nil {
		return nil, err
	}
	l := &Lease{Container: ep.Container, Name: ep.Name, Aliases: ep.Aliases, Hosts: ep.Hosts, Veth: vethName(ep.Container, n)}
	if err := log.Step("address lease", n.Name+" "+n.subnets(), func() error { return s.allocate(n, l) }); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.undo(log, n, l)
		}
	}()
	if err := plug(log, n, br, ep.Netns, ep.Ifname, l, !ep.NoRoute); err != nil {
		return nil, err
	}
	if err := s.publish(log, l, ep.Ports); err != nil {
		return nil, err
	}
	if err := s.update(n, l); err != nil {
		return nil, err
	}
	if err := s.writeHosts(log, n, ep.Hostname, l); err != nil {
		return nil, err
	}
	return l, nil
}

// publish checks and adds l's ports under the host lock (two commands
// cannot both take one port).
func (s *Store) publish(log *trace.Log, l *Lease, ports []Port) error {
	if len(ports) == 0 {
		return nil
	}
	unlock, err := hostLock()
	if err != nil {
		return err
	}
	defer unlock()
	ports = append([]Port(nil), ports...)
	if _, err := bindings(ports, l.Addr6.IsValid()); err != nil {
		return err
	}
	if err := log.Step("check ports", portList(ports), func() error { return checkPorts(ports) }); err != nil {
		return err
	}
	bs, _ := bindings(ports, l.Addr6.IsValid())
	if err := addPortRules(log, l, bs); err != nil {
		return err
	}
	l.Ports = ports
	return nil
}

// Unpublish frees container's published ports: it stopped (Docker frees
// them then; its address and veth stay until rm).
func (s *Store) Unpublish(log *trace.Log, container string) error {
	return delContainerRules(log, container)
}

// Republish publishes container's ports on n again (start after a stop,
// and idempotent after create): a port another took meanwhile is an error
// that names it, as at run.
func (s *Store) Republish(log *trace.Log, n *Network, container string) error {
	l := s.Find(n, container)
	if l == nil || len(l.Ports) == 0 {
		return nil
	}
	if err := delContainerRules(log, container); err != nil {
		return err
	}
	return s.publish(log, l, l.Ports)
}

// undo removes what Attach made for l, whatever got made.
func (s *Store) undo(log *trace.Log, n *Network, l *Lease) {
	delContainerRules(log, l.Container)
	unplug(log, l.Veth)
	s.release(n, l.Addr)
	s.release(n, l.Addr6)
}

// Detach disconnects container from n: its ports, veth and address, and
// its line in the other members' /etc/hosts. Detaching a container that
// is not attached is no error (rm after a crash).
func (s *Store) Detach(log *trace.Log, n *Network, container string) error {
	return s.detach(log, n, container, true)
}

// Leave is Detach for a container whose network namespace goes next
// (DelNetns, its processes dead): the veth is left to the kernel, which
// deletes a namespace's devices when the namespace ends, in the
// background. Deleting it here would wait for the network stack to quiesce
// (synchronize_net): ~50 ms of the 100 a bridged `run --rm` took.
func (s *Store) Leave(log *trace.Log, n *Network, container string) error {
	return s.detach(log, n, container, false)
}

func (s *Store) detach(log *trace.Log, n *Network, container string, veth bool) error {
	leases, err := s.leaseFiles(n)
	if err != nil {
		return err
	}
	var errs []error
	for _, l := range leases {
		if l.Container != container {
			continue
		}
		if l.Addr.Is4() { // the container's lease (an IPv6 one has only its address)
			errs = append(errs, delContainerRules(log, container))
			if veth {
				errs = append(errs, unplug(log, l.Veth))
			}
		}
		errs = append(errs, s.release(n, l.Addr))
	}
	errs = append(errs, s.rewriteMembers(log, n))
	return errors.Join(errs...)
}

// Sweep detaches, from every network, the containers alive says are gone:
// what a command killed between Attach and its record, or an rm that died
// half-way, left behind (an IPv6 lease whose IPv4 one never got its
// address written too). The next command calls it.
func (s *Store) Sweep(log *trace.Log, alive func(container string) bool) error {
	nets, err := s.List()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range nets {
		leases, err := s.leaseFiles(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		done := map[string]bool{}
		for _, l := range leases {
			if !alive(l.Container) && !done[l.Container] {
				done[l.Container] = true
				errs = append(errs, s.Detach(log, n, l.Container))
			}
		}
		errs = append(errs, s.sweepTemps(n, alive))
	}
	return errors.Join(errs...)
}

// Find returns container's lease on n, or nil.
func (s *Store) Find(n *Network, container string) *Lease {
	leases, _ := s.Leases(n)
	for _, l := range leases {
		if l.Container == container {
			return l
		}
	}
	return nil
}

// writeHosts writes l's /etc/hosts and, on a network with names, every
// member's again (each lists all of them), under the network's lock.
func (s *Store) writeHosts(log *trace.Log, n *Network, hostname string, l *Lease) error {
	if l.Hosts == "" {
		return nil
	}
	if !n.DNS {
		return log.Step("hosts", l.Hosts, func() error {
			return writeInPlace(l.Hosts, hostsFile(hostname, l, nil))
		})
	}
	return s.rewriteMembers(log, n)
}

// rewriteMembers rewrites the /etc/hosts of every member of n (a network
// with names): each lists itself first, then the others.
func (s *Store) rewriteMembers(log *trace.Log, n *Network) error {
	if !n.DNS {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(s.dir, n.Name, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	leases, err := s.Leases(n)
	if err != nil {
		return err
	}
	for _, l := range leases {
		if l.Hosts == "" {
			continue
		}
		err := log.Step("hosts", l.Hosts, func() error { return writeInPlace(l.Hosts, hostsFile("", l, leases)) })
		if err != nil && !errors.Is(err, os.ErrNotExist) { // a member being removed
			return err
		}
	}
	return nil
}

// hostsFile is a container's /etc/hosts: loopback, itself, then the other
// members of its network by name and aliases (Docker writes the same
// lines for a user-defined network, its DNS server aside); on a
// dual-stack network each has an IPv4 and an IPv6 line, as in Docker.
func hostsFile(hostname string, self *Lease, members []*Lease) []byte {
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	line := func(l *Lease, extra string) {
		names := []string{}
		if extra != "" {
			names = append(names, extra)
		}
		names = append(names, l.Name)
		names = append(names, l.Aliases...)
		for _, a := range []netip.Addr{l.Addr, l.Addr6} {
			if a.IsValid() {
				fmt.Fprintf(&b, "%s\t%s\n", a, strings.Join(dedup(names), " "))
			}
		}
	}
	line(self, hostname)
	for _, m := range members {
		if m.Container != self.Container {
			line(m, "")
		}
	}
	return []byte(b.String())
}

func dedup(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// writeInPlace rewrites a file keeping its inode: it is bind-mounted
// into a running container, and a rename would leave the container with
// the old one.
func writeInPlace(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ResolvConf is the container's /etc/resolv.conf: the host's, with
// loopback name servers (unreachable from the container) left out, and
// systemd-resolved's stub 127.0.0.53 replaced by the servers it forwards
// to (/run/systemd/resolve/resolv.conf), as Docker does. warn says what
// was dropped, "" when nothing was.
func ResolvConf() (conf []byte, warn string, err error) {
	b, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return nil, "", err
	}
	if strings.Contains(string(b), "127.0.0.53") {
		if up, err := os.ReadFile("/run/systemd/resolve/resolv.conf"); err == nil {
			b = up
		}
	}
	return filterResolv(b)
}

func filterResolv(b []byte) ([]byte, string, error) {
	var out strings.Builder
	var dropped []string
	servers := 0
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			if a, err := netip.ParseAddr(f[1]); err == nil && a.IsLoopback() {
				dropped = append(dropped, f[1])
				continue
			}
			servers++
		}
		if strings.TrimSpace(line) != "" {
			out.WriteString(line + "\n")
		}
	}
	warn := ""
	if len(dropped) > 0 {
		warn = fmt.Sprintf("the host's resolv.conf names loopback name servers (%s), which a container cannot reach: left out", strings.Join(dropped, ", "))
		if servers == 0 {
			warn += "; the container has no name server"
		}
	}
	return []byte(out.String()), warn, nil
}
