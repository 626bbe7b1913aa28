package hknet

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"hako/internal/trace"
)

// ensureBridge makes n's bridge, with the gateway address, up, and its NAT
// rule, unless it is there (a concurrent command, or a container before).
// After a reboot the bridge and rules are gone while the network record
// stays: the next container brings them back.
func ensureBridge(log *trace.Log, n *Network) (netlink.Link, error) {
	if br, err := netlink.LinkByName(n.Bridge); err == nil {
		return br, nil
	}
	unlock, err := hostLock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if br, err := netlink.LinkByName(n.Bridge); err == nil {
		return br, nil
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: n.Bridge}}
	if err := log.Step("bridge", "add "+n.Bridge, func() error { return netlink.LinkAdd(br) }); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			netlink.LinkDel(br)
		}
	}()
	if err := addrAdd(log, nil, br, n.Gateway, n.Subnet); err != nil {
		return nil, err
	}
	// Published ports reached on 127.0.0.1 are DNATed to the container:
	// the packet leaves through the bridge with a loopback source, which
	// the kernel drops unless route_localnet allows it (the rule that
	// masquerades it is in nft.go). Docker does the same without its
	// userland proxy. IPv6 has no such switch (docs/networking.md).
	sysctls := []struct{ path, val string }{
		{"/proc/sys/net/ipv4/conf/" + n.Bridge + "/route_localnet", "1"},
		{"/proc/sys/net/ipv4/ip_forward", "1"},
	}
	if n.IPv6 {
		// forwarding on "all" is what routes between the bridge and the
		// host's other links (Docker sets it too; it makes the host stop
		// taking router advertisements on links with accept_ra=1).
		sysctls = append(sysctls, struct{ path, val string }{"/proc/sys/net/ipv6/conf/all/forwarding", "1"})
	}
	for _, sc := range sysctls {
		if err := log.Step("sysctl", sc.path+" = "+sc.val, func() error { return writeSysctl(sc.path, sc.val) }); err != nil {
			return nil, err
		}
	}
	if n.IPv6 {
		if err := addrAdd(log, nil, br, n.Gateway6, n.Subnet6); err != nil {
			return nil, err
		}
	}
	if err := log.Step("link up", n.Bridge, func() error { return netlink.LinkSetUp(br) }); err != nil {
		return nil, err
	}
	if err := addNetworkRules(log, n); err != nil {
		return nil, err
	}
	ok = true
	return br, nil
}

func writeSysctl(path, val string) error {
	if b, err := os.ReadFile(path); err == nil && string(b) == val+"\n" {
		return nil
	}
	return os.WriteFile(path, []byte(val), 0o644)
}

// removeBridge deletes n's bridge if it exists.
func removeBridge(log *trace.Log, n *Network) error {
	br, err := netlink.LinkByName(n.Bridge)
	if err != nil {
		return nil
	}
	return log.Step("bridge", "delete "+n.Bridge, func() error { return netlink.LinkDel(br) })
}

// vethName is the host end's name: "hkv" + 12 hex of a hash of the
// container and network (15 bytes, IFNAMSIZ-1), the same each time, so a
// later command finds the veth of a container whose command was killed.
func vethName(container string, n *Network) string {
	h := sha256.Sum256([]byte(container + "/" + n.ID))
	return "hkv" + hex.EncodeToString(h[:6])
}

// plug creates the veth pair: the host end on n's bridge and up, the
// other end in the namespace at nsPath as ifname, with l.Addr, up, lo up,
// and (unless the network is internal, or route is false) the default route
// through the gateway.
func plug(log *trace.Log, n *Network, br netlink.Link, nsPath, ifname string, l *Lease, route bool) error {
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return log.Step("open netns", nsPath, func() error { return err })
	}
	defer ns.Close()
	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: l.Veth, MasterIndex: br.Attrs().Index, MTU: br.Attrs().MTU},
		PeerName:         ifname,
		PeerNamespace:    netlink.NsFd(int(ns)),
		PeerHardwareAddr: macOf(l.Addr),
	}
	if err := log.Step("veth", fmt.Sprintf("add %s (on %s) and %s in %s", l.Veth, n.Bridge, ifname, nsPath), func() error { return netlink.LinkAdd(veth) }); err != nil {
		return err
	}
	if err := log.Step("link up", l.Veth, func() error { return netlink.LinkSetUp(veth) }); err != nil {
		return err
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return log.Step("netlink in netns", nsPath, func() error { return err })
	}
	defer h.Close()
	in, err := h.LinkByName(ifname)
	if err != nil {
		return log.Step("link", ifname+" in "+nsPath, func() error { return err })
	}
	if err := addrAdd(log, h, in, l.Addr, n.Subnet); err != nil {
		return err
	}
	if l.Addr6.IsValid() {
		if err := addrAdd(log, h, in, l.Addr6, n.Subnet6); err != nil {
			return err
		}
	}
	if err := log.Step("link up", ifname, func() error { return h.LinkSetUp(in) }); err != nil {
		return err
	}
	if lo, err := h.LinkByName("lo"); err == nil {
		if err := log.Step("link up", "lo", func() error { return h.LinkSetUp(lo) }); err != nil {
			return err
		}
	}
	if n.Internal || !route {
		return nil
	}
	r := &netlink.Route{LinkIndex: in.Attrs().Index, Gw: n.Gateway.AsSlice()}
	if err := log.Step("route", "default via "+n.Gateway.String()+" dev "+ifname, func() error { return h.RouteAdd(r) }); err != nil {
		return err
	}
	if !l.Addr6.IsValid() {
		return nil
	}
	r6 := &netlink.Route{LinkIndex: in.Attrs().Index, Gw: n.Gateway6.AsSlice()}
	return log.Step("route", "default via "+n.Gateway6.String()+" dev "+ifname, func() error { return h.RouteAdd(r6) })
}

// addrAdd puts a (with sub's prefix length) on link through h (nil: the
// host's namespace). An IPv6 address is added without duplicate address
// detection (nodad, as Docker and netavark do): the address is one hk
// leased, and DAD would leave it "tentative", unusable, for the first
// second or two of the container's life (docs/networking.md).
func addrAdd(log *trace.Log, h *netlink.Handle, link netlink.Link, a netip.Addr, sub netip.Prefix) error {
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(sub.Bits(), a.BitLen())}}
	what := addr.IPNet.String() + " on " + link.Attrs().Name
	if a.Is6() {
		addr.Flags = unix.IFA_F_NODAD
		what += " nodad"
	}
	return log.Step("address", what, func() error {
		if h == nil {
			return netlink.AddrAdd(link, addr)
		}
		return h.AddrAdd(link, addr)
	})
}

// MAC is the MAC address a container with address a gets.
func MAC(a netip.Addr) net.HardwareAddr { return macOf(a) }

// macOf is Docker's scheme: 02:42 and the IPv4 address, so an address
// always comes with the same MAC and neighbours' caches stay right.
func macOf(a netip.Addr) net.HardwareAddr {
	b := a.As4()
	return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

// unplug deletes a container's veth (its peer goes with it). Gone already
// (the namespace died and took the pair along) is fine.
func unplug(log *trace.Log, name string) error {
	link, err := netlink.LinkByName(name)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		return err
	}
	return log.Step("veth", "delete "+name, func() error {
		if err := netlink.LinkDel(link); err != nil && !errors.Is(err, unix.ENODEV) {
			return err
		}
		return nil
	})
}
