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

// pool is where subnets come from when none is asked for: /24s of
// 10.89.0.0/16 (podman's default is 10.88.0.0/16; Docker's 172.17/16),
// skipping every prefix already routed on the host or used by another
// network of this root.
var pool = netip.MustParsePrefix("10.89.0.0/16")

// inUse is a prefix something holds, and what: "network NAME", "a route
// of the host (dev eth0)".
type inUse struct {
	netip.Prefix
	by string
}

// pickSubnet returns want when it overlaps nothing taken, else the first
// free /24 of the pool.
func pickSubnet(want netip.Prefix, taken []inUse) (netip.Prefix, error) {
	if want.IsValid() {
		want = want.Masked()
		if !want.Addr().Is4() || want.Bits() > 30 {
			return netip.Prefix{}, fmt.Errorf("subnet %s: an IPv4 prefix of /30 or larger is needed", want)
		}
		for _, t := range taken {
			if t.Overlaps(want) {
				return netip.Prefix{}, fmt.Errorf("subnet %s overlaps %s, in use by %s", want, t.Prefix, t.by)
			}
		}
		return want, nil
	}
	a := pool.Addr().As4()
	for i := 0; i < 256; i++ {
		a[2] = byte(i)
		p := netip.PrefixFrom(netip.AddrFrom4(a), 24)
		free := true
		for _, t := range taken {
			if t.Overlaps(p) {
				free = false
				break
			}
		}
		if free {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free /24 left in %s: remove unused networks (hk network prune) or give --subnet", pool)
}

// takenPrefixes: the host's IPv4 routes and every network of this root.
func (s *Store) takenPrefixes() ([]inUse, error) {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
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
		out = append(out, inUse{n.Subnet, "network " + n.Name})
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
// the container is, for the other members' /etc/hosts.
type Lease struct {
	Addr      netip.Addr `json:"addr"`
	Container string     `json:"container"` // ID
	Name      string     `json:"name"`
	Aliases   []string   `json:"aliases,omitempty"`
	Hosts     string     `json:"hosts,omitempty"` // the container's /etc/hosts on the host
	Veth      string     `json:"veth"`
	Ports     []Port     `json:"ports,omitempty"`
}

func (s *Store) leaseDir(n *Network) string { return filepath.Join(s.dir, n.Name, "leases") }

// allocate takes the first free address of n for l (l.Addr set on return).
// Each try writes the whole lease to a temp file named after the container
// and links it to the address's name: link fails with EEXIST as O_EXCL
// would, and a lease is never seen (nor left, by a command killed between
// create and write) without its content. Sweep removes the temp files of
// containers that are gone.
func (s *Store) allocate(n *Network, l *Lease) error {
	dir := s.leaseDir(n)
	tmp := filepath.Join(dir, tempPrefix+l.Container)
	defer os.Remove(tmp)
	for a := n.Subnet.Addr().Next(); n.Subnet.Contains(a); a = a.Next() {
		if a == n.Gateway || !n.Subnet.Contains(a.Next()) { // the broadcast address is the last
			continue
		}
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
	return fmt.Errorf("network %s (%s) has no free address left", n.Name, n.Subnet)
}

// tempPrefix starts the name of a lease being written: tempPrefix +
// container ID (allocate), or ADDR + "." + tempPrefix + container ID
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

// Leases lists n's leases, by address. Temp files (a lease being written,
// see allocate) are skipped.
func (s *Store) Leases(n *Network) ([]*Lease, error) {
	ents, err := os.ReadDir(s.leaseDir(n))
	if err != nil {
		return nil, err
	}
	var out []*Lease
	for _, e := range ents {
		if _, err := netip.ParseAddr(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.leaseDir(n), e.Name()))
		l := &Lease{}
		if err != nil || json.Unmarshal(b, l) != nil {
			continue
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr.Less(out[j].Addr) })
	return out, nil
}

func (s *Store) release(n *Network, a netip.Addr) error {
	err := os.Remove(filepath.Join(s.leaseDir(n), a.String()))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
