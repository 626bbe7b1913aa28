package hknet

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"hako/internal/trace"
)

// DefaultName is the network `hk run` joins unless told otherwise, as
// Docker's "bridge": no name resolution between its containers (Docker's
// default bridge has none either); user-defined networks have it.
const DefaultName = "bridge"

// Network is one bridge network, saved as root/networks/NAME/network.json.
type Network struct {
	Name     string       `json:"name"`
	ID       string       `json:"id"`
	Bridge   string       `json:"bridge"` // the Linux bridge: "hk-" + 12 hex of the ID
	Subnet   netip.Prefix `json:"subnet"`
	Gateway  netip.Addr   `json:"gateway"` // the bridge's own address, the containers' route
	Internal bool         `json:"internal,omitempty"`
	// IPv6: dual stack (--ipv6): Subnet6 and Gateway6 beside the IPv4
	// ones, each container an address of both.
	IPv6     bool         `json:"ipv6,omitempty"`
	Subnet6  netip.Prefix `json:"subnet6,omitzero"`
	Gateway6 netip.Addr   `json:"gateway6,omitzero"`
	// DNS: containers on it find each other by name and alias (their
	// /etc/hosts lists every member). False only for DefaultName.
	DNS     bool      `json:"dns"`
	Created time.Time `json:"created"`
}

// subnets is "10.89.0.0/24" or, dual stack, "10.89.0.0/24 fd00:89::/64".
func (n *Network) subnets() string {
	if n.IPv6 {
		return n.Subnet.String() + " " + n.Subnet6.String()
	}
	return n.Subnet.String()
}

// Store holds the networks of one hk root.
type Store struct {
	dir string // root/networks
}

// ErrNotFound: no network by that name or ID.
var ErrNotFound = errors.New("no such network")

// ErrExists: a network by that name exists already.
var ErrExists = errors.New("network already exists")

var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$`)

// Open returns the store under root (hk's --root).
func Open(root string) (*Store, error) {
	dir := filepath.Join(root, "networks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Store{dir: dir}, nil
}

// CreateOpts are `hk network create`'s choices.
type CreateOpts struct {
	Name     string
	Subnet   netip.Prefix // zero: the first free /24 of the pool
	Gateway  netip.Addr   // zero: the subnet's first address
	Internal bool
	// IPv6 (--ipv6; implied by an IPv6 Subnet6): dual stack.
	IPv6     bool
	Subnet6  netip.Prefix // zero: the first free /64 of pool6
	Gateway6 netip.Addr   // zero: Subnet6's first address
}

// Create makes a network: its record only; the bridge appears when the
// first container joins (Attach), as with Docker's, and again after a
// reboot.
func (s *Store) Create(o CreateOpts) (*Network, error) {
	if !validName.MatchString(o.Name) {
		return nil, fmt.Errorf("invalid network name %q: letters, digits, '_', '.', '-', starting with a letter or digit", o.Name)
	}
	unlock, err := hostLock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := s.Get(o.Name); err == nil {
		return nil, fmt.Errorf("network %q: %w", o.Name, ErrExists)
	}
	n := &Network{Name: o.Name, ID: randomID(), Internal: o.Internal, DNS: o.Name != DefaultName, Created: time.Now().UTC()}
	n.Bridge = "hk-" + n.ID[:12]
	taken, err := s.takenPrefixes(netlink.FAMILY_V4)
	if err != nil {
		return nil, err
	}
	if n.Subnet, n.Gateway, err = pickSubnet(o.Subnet, o.Gateway, pool, taken); err != nil {
		return nil, err
	}
	if o.IPv6 || o.Subnet6.IsValid() || o.Gateway6.IsValid() {
		n.IPv6 = true
		if _, err := os.Stat("/proc/sys/net/ipv6"); err != nil {
			return nil, fmt.Errorf("--ipv6: this host has no IPv6 (the kernel booted with ipv6.disable=1?): %w", err)
		}
		if taken, err = s.takenPrefixes(netlink.FAMILY_V6); err != nil {
			return nil, err
		}
		if n.Subnet6, n.Gateway6, err = pickSubnet(o.Subnet6, o.Gateway6, pool6, taken); err != nil {
			return nil, err
		}
	}
	return n, s.save(n)
}

// Ensure returns network name, creating the default one on first use.
func (s *Store) Ensure(name string) (*Network, error) {
	n, err := s.Get(name)
	if errors.Is(err, ErrNotFound) && name == DefaultName {
		n, err = s.Create(CreateOpts{Name: name})
		if errors.Is(err, ErrExists) { // made by a concurrent command
			return s.Get(name)
		}
	}
	return n, err
}

func (s *Store) save(n *Network) error {
	dir := filepath.Join(s.dir, n.Name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("network %q: %w", n.Name, ErrExists)
		}
		return err
	}
	b, _ := json.MarshalIndent(n, "", "  ")
	if err := writeAtomic(filepath.Join(dir, "network.json"), b); err != nil {
		os.RemoveAll(dir)
		return err
	}
	return os.Mkdir(filepath.Join(dir, "leases"), 0o700)
}

// Get finds a network by name, ID or unique ID prefix.
func (s *Store) Get(ref string) (*Network, error) {
	if validName.MatchString(ref) {
		if n, err := s.load(ref); err == nil {
			return n, nil
		}
	}
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	var found *Network
	for _, n := range all {
		if len(ref) >= 4 && len(ref) <= len(n.ID) && n.ID[:len(ref)] == ref {
			if found != nil {
				return nil, fmt.Errorf("network ID prefix %q is ambiguous", ref)
			}
			found = n
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	return found, nil
}

func (s *Store) load(name string) (*Network, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, name, "network.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err != nil {
		return nil, err
	}
	n := &Network{}
	if err := json.Unmarshal(b, n); err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}
	return n, nil
}

// List returns every network, by name.
func (s *Store) List() ([]*Network, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []*Network
	for _, e := range ents {
		if n, err := s.load(e.Name()); err == nil {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ErrInUse: rm of a network that containers are attached to.
var ErrInUse = errors.New("network has active endpoints")

// Remove deletes a network with no container on it, and its bridge and
// NAT rule if they exist.
func (s *Store) Remove(log *trace.Log, n *Network) error {
	leases, err := s.Leases(n)
	if err != nil {
		return err
	}
	if len(leases) > 0 {
		return fmt.Errorf("network %s: %w (%d: %s ...)", n.Name, ErrInUse, len(leases), leases[0].Name)
	}
	if err := removeBridge(log, n); err != nil {
		return err
	}
	if err := delNetworkRules(log, n); err != nil {
		return err
	}
	if err := dropTableIfEmpty(log); err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(s.dir, n.Name))
}

func randomID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// writeAtomic writes a file whole or not at all (temp + rename).
func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// hostLock serialises what must be unique on the whole host (subnets,
// bridges) between hk commands of every root: an flock on a file in /run.
func hostLock() (func(), error) {
	f, err := os.OpenFile("/run/hk-network.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("network lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("network lock: %w", err)
	}
	return func() { f.Close() }, nil
}
