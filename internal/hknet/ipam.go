package hknet

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vishvananda/netlink"
)

// addrPool is where subnets come from when none is asked for: subnets of
// size bits, the first that overlaps nothing taken.
type addrPool struct {
	netip.Prefix
	bits int
}

// pool: /24s of 10.89.0.0/16 (podman's default is 10.88.0.0/16; Docker's
// 172.17/16). pool6, for --ipv6: /64s of fd00:89::/48, a unique local
// prefix (RFC 4193), as Docker's and podman's are; fixed rather than a
// random global ID so that hk's subnets are recognisable and the tests
// and docs can name them. Both skip every prefix the host already routes
// and every other network of this root.
var (
	pool  = addrPool{netip.MustParsePrefix("10.89.0.0/16"), 24}
	pool6 = addrPool{netip.MustParsePrefix("fd00:89::/48"), 64}
)

// inUse is a prefix something holds, and what: "network NAME", "a route
// of the host (dev eth0)".
type inUse struct {
	netip.Prefix
	by string
}

// pickSubnet returns want (of p's family) when it overlaps nothing taken,
// else the first free subnet of p; and its gateway: gw, or the subnet's
// first address.
func pickSubnet(want netip.Prefix, gw netip.Addr, p addrPool, taken []inUse) (netip.Prefix, netip.Addr, error) {
	sub, err := chooseSubnet(want, p, taken)
	if err != nil {
		return netip.Prefix{}, netip.Addr{}, err
	}
	if !gw.IsValid() {
		gw = sub.Addr().Next()
	}
	if !sub.Contains(gw) {
		return netip.Prefix{}, netip.Addr{}, fmt.Errorf("gateway %s is not in subnet %s", gw, sub)
	}
	return sub, gw, nil
}

func chooseSubnet(want netip.Prefix, p addrPool, taken []inUse) (netip.Prefix, error) {
	if want.IsValid() {
		want = want.Masked()
		if err := checkSubnet(want, p.Addr().Is6()); err != nil {
			return netip.Prefix{}, err
		}
		for _, t := range taken {
			if t.Overlaps(want) {
				return netip.Prefix{}, fmt.Errorf("subnet %s overlaps %s, in use by %s", want, t.Prefix, t.by)
			}
		}
		return want, nil
	}
	for i := uint64(0); i < 1<<16 && i>>(p.bits-p.Bits()) == 0; i++ {
		c := p.nth(i)
		free := true
		for _, t := range taken {
			if t.Overlaps(c) {
				free = false
				break
			}
		}
		if free {
			return c, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free /%d left in %s: remove unused networks (hk network prune) or give --subnet", p.bits, p.Prefix)
}

// checkSubnet refuses a subnet of the wrong family or too small for a
// gateway and a container: IPv4 /30 (its last address is the broadcast),
// IPv6 /126; and IPv6 prefixes that are not unicast for a link.
func checkSubnet(want netip.Prefix, v6 bool) error {
	a := want.Addr()
	switch {
	case !v6 && (!a.Is4() || want.Bits() > 30):
		return fmt.Errorf("subnet %s: an IPv4 prefix of /30 or larger is needed", want)
	case v6 && (!a.Is6() || a.Is4In6() || want.Bits() > 126):
		return fmt.Errorf("subnet %s: an IPv6 prefix of /126 or larger is needed", want)
	case v6 && (a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsLoopback() || a.IsUnspecified()):
		return fmt.Errorf("subnet %s: link-local, multicast and loopback prefixes cannot be a network's", want)
	}
	return nil
}

// nth is p's i-th subnet: i added at bit p.bits of p's address.
func (p addrPool) nth(i uint64) netip.Prefix {
	b := p.Addr().AsSlice()
	shift := len(b)*8 - p.bits
	carry := i << (shift % 8)
	for k := len(b) - 1 - shift/8; k >= 0 && carry > 0; k-- {
		carry += uint64(b[k])
		b[k] = byte(carry)
		carry >>= 8
	}
	a, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(a, p.bits)
}

// takenPrefixes: the host's routes of family (netlink.FAMILY_V4 or _V6)
// and every network of this root.
func (s *Store) takenPrefixes(family int) ([]inUse, error) {
	routes, err := netlink.RouteList(nil, family)
	if err != nil {
		return nil, fmt.Errorf("list the host's routes: %w", err)
	}
	var out []inUse
	for _, r := range routes {
		if r.Dst == nil {
			continue // the default route overlaps everything by design
		}
		if p, ok := prefixOf(r.Dst); ok && p.Bits() > 0 {
			by := "a route of the host"
			if l, err := netlink.LinkByIndex(r.LinkIndex); err == nil {
				by += " (dev " + l.Attrs().Name + ")"
			}
			out = append(out, inUse{p, by})
		}
	}
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	for _, n := range all {
		for _, p := range []netip.Prefix{n.Subnet, n.Subnet6} {
			if p.IsValid() && (p.Addr().Is6() == (family == netlink.FAMILY_V6)) {
				out = append(out, inUse{p, "network " + n.Name})
			}
		}
	}
	return out, nil
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	bits, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), bits), true
}

// Lease is one container's address on a network: the file
// root/networks/NAME/leases/ADDR, created O_EXCL, so that two commands can
// never hand out one address (CNI host-local's scheme). It also says who
// the container is, for the other members' /etc/hosts. On a dual-stack
// network the IPv6 address is leased the same way, in a file of its own
// (leases/ADDR6) that holds only the address and the container; the
// IPv4 lease (this) names it as Addr6.
type Lease struct {
	Addr      netip.Addr `json:"addr"`
	Addr6     netip.Addr `json:"addr6,omitzero"`
	Container string     `json:"container"` // ID
	Name      string     `json:"name"`
	Aliases   []string   `json:"aliases,omitempty"`
	Hosts     string     `json:"hosts,omitempty"` // the container's /etc/hosts on the host
	Veth      string     `json:"veth"`
	Ports     []Port     `json:"ports,omitempty"`
}

func (s *Store) leaseDir(n *Network) string { return filepath.Join(s.dir, n.Name, "leases") }

// allocate takes the first free IPv4 address of n for l (l.Addr set on
// return) and, on a dual-stack network, the first free IPv6 one (l.Addr6).
func (s *Store) allocate(n *Network, l *Lease) error {
	if err := s.take(n, n.Subnet, n.Gateway, l, &l.Addr); err != nil {
		return err
	}
	if !n.IPv6 {
		return nil
	}
	if err := s.take(n, n.Subnet6, n.Gateway6, &Lease{Container: l.Container}, &l.Addr6); err != nil {
		s.release(n, l.Addr)
		return err
	}
	return nil
}

// take leases the first free address of sub (not gw, not IPv4's
// broadcast) with l in it, and sets *addr (l's Addr) to it. Each try
// writes the whole lease to a temp file named after the container and
// links it to the address's name: link fails with EEXIST as O_EXCL would,
// and a lease is never seen (nor left, by a command killed between create
// and write) without its content. Sweep removes the temp files of
// containers that are gone. The loop ends at the first address no file
// has: at most one more turn than there are leases.
func (s *Store) take(n *Network, sub netip.Prefix, gw netip.Addr, l *Lease, addr *netip.Addr) error {
	dir := s.leaseDir(n)
	tmp := filepath.Join(dir, tempPrefix+l.Container)
	defer os.Remove(tmp)
	for a := sub.Addr().Next(); sub.Contains(a); a = a.Next() {
		if a == gw || (a.Is4() && !sub.Contains(a.Next())) { // the broadcast address is the last
			continue
		}
		*addr = a
		l.Addr = a
		b, _ := json.Marshal(l)
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			return fmt.Errorf("lease %s on %s: %w", a, n.Name, err)
		}
		err := os.Link(tmp, filepath.Join(dir, a.String()))
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("lease %s on %s: %w", a, n.Name, err)
		}
		return nil
	}
	return fmt.Errorf("network %s (%s) has no free address left", n.Name, sub)
}

// tempPrefix starts the name of a lease being written: tempPrefix +
// container ID (take), or ADDR + "." + tempPrefix + container ID
// (update).
const tempPrefix = ".new-"

// tempOwner is the container whose lease a temp file in the lease
// directory is, if name is one.
func tempOwner(name string) (string, bool) {
	i := strings.Index(name, tempPrefix)
	if i < 0 {
		return "", false
	}
	return name[i+len(tempPrefix):], true
}

// update rewrites l's lease (after its veth and ports are known).
func (s *Store) update(n *Network, l *Lease) error {
	b, _ := json.Marshal(l)
	path := filepath.Join(s.leaseDir(n), l.Addr.String())
	tmp := path + tempPrefix + l.Container
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// sweepTemps removes the lease temp files of containers alive says are
// gone (their command was killed while writing one).
func (s *Store) sweepTemps(n *Network, alive func(container string) bool) error {
	ents, err := os.ReadDir(s.leaseDir(n))
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		if id, ok := tempOwner(e.Name()); ok && !alive(id) {
			if err := os.Remove(filepath.Join(s.leaseDir(n), e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Leases lists n's leases (one per container: the IPv4 ones), by
// address. Temp files (a lease being written, see take) are skipped.
func (s *Store) Leases(n *Network) ([]*Lease, error) {
	all, err := s.leaseFiles(n)
	var out []*Lease
	for _, l := range all {
		if l.Addr.Is4() {
			out = append(out, l)
		}
	}
	return out, err
}

// leaseFiles reads every lease file of n, IPv6 ones too, by address.
func (s *Store) leaseFiles(n *Network) ([]*Lease, error) {
	ents, err := os.ReadDir(s.leaseDir(n))
	if err != nil {
		return nil, err
	}
	var out []*Lease
	for _, e := range ents {
		a, err := netip.ParseAddr(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.leaseDir(n), e.Name()))
		l := &Lease{}
		if err != nil || json.Unmarshal(b, l) != nil || l.Addr != a {
			continue
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr.Less(out[j].Addr) })
	return out, nil
}

func (s *Store) release(n *Network, a netip.Addr) error {
	if !a.IsValid() {
		return nil
	}
	err := os.Remove(filepath.Join(s.leaseDir(n), a.String()))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
