package hknet

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"

	"hako/internal/trace"
)

// The tables hako owns, one per family: `table ip hako` and, once a
// network with --ipv6 has a container, `table ip6 hako`, with the same
// chains. Nothing else writes to them and hako writes nowhere else, so
// `nft list table ip hako` and `nft list table ip6 hako` show all of it,
// and removing hako's rules never touches a rule of Docker's, podman's or
// the admin's.
//
//	table ip hako {
//	  chain prerouting  { type nat hook prerouting priority dstnat; }   # -p: DNAT from outside
//	  chain output      { type nat hook output priority dstnat; }       # -p: DNAT from the host itself
//	  chain postrouting { type nat hook postrouting priority srcnat; }  # masquerade
//	}
//
// Two tables rather than one `table inet hako`: Docker's split (iptables
// and ip6tables), the IPv4 table stays as it was before IPv6 came, and an
// inet table would save no rule (addresses, DNAT targets and masquerade
// sources are per family, so every rule would be per family anyway, each
// with a `meta nfproto` guard).
//
// Every rule's comment names its owner: "net <network ID>" for a
// network's masquerade, "ctr <container ID> <proto> <host ip>:<port>" for
// a published port ("[::]:8080" in the IPv6 table).
const tableName = "hako"

var (
	table  = &nftables.Table{Family: nftables.TableFamilyIPv4, Name: tableName}
	table6 = &nftables.Table{Family: nftables.TableFamilyIPv6, Name: tableName}
	tables = []*nftables.Table{table, table6}
)

// tableFor is the table of a's family.
func tableFor(a netip.Addr) *nftables.Table {
	if a.Is4() {
		return table
	}
	return table6
}

// tableText is how nft names t: "table ip hako", "table ip6 hako".
func tableText(t *nftables.Table) string {
	if t.Family == nftables.TableFamilyIPv6 {
		return "table ip6 " + tableName
	}
	return "table ip " + tableName
}

type chains struct{ pre, out, post *nftables.Chain }

// ensureTable adds table t and its chains (nft's "add": a no-op for what
// exists).
func ensureTable(c *nftables.Conn, t *nftables.Table) chains {
	c.AddTable(t)
	nat := func(name string, hook *nftables.ChainHook, prio *nftables.ChainPriority) *nftables.Chain {
		return c.AddChain(&nftables.Chain{Name: name, Table: t, Type: nftables.ChainTypeNAT, Hooknum: hook, Priority: prio})
	}
	return chains{
		pre:  nat("prerouting", nftables.ChainHookPrerouting, nftables.ChainPriorityNATDest),
		out:  nat("output", nftables.ChainHookOutput, nftables.ChainPriorityNATDest),
		post: nat("postrouting", nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource),
	}
}

func comment(s string) []byte { return userdata.AppendString(nil, userdata.TypeComment, s) }

func commentOf(r *nftables.Rule) string {
	s, _ := userdata.GetString(r.UserData, userdata.TypeComment)
	return s
}

// addNetworkRules: masquerade what leaves n's subnets for elsewhere (not
// for an internal network), and what reaches a container from the host's
// loopback through a published port (route_localnet, link.go).
func addNetworkRules(log *trace.Log, n *Network) error {
	err := log.Step("nft", "table ip hako: masquerade "+n.Subnet.String()+" via "+n.Bridge, func() error {
		c, err := nftables.New()
		if err != nil {
			return err
		}
		ch := ensureTable(c, table)
		tag := comment("net " + n.ID)
		if !n.Internal {
			c.AddRule(masquerade(ch.post, tag, n.Subnet, expr.CmpOpNeq, n.Bridge))
		}
		c.AddRule(masquerade(ch.post, tag, netip.MustParsePrefix("127.0.0.0/8"), expr.CmpOpEq, n.Bridge))
		return c.Flush()
	})
	if err != nil || !n.IPv6 || n.Internal {
		return err
	}
	return log.Step("nft", "table ip6 hako: masquerade "+n.Subnet6.String()+" via "+n.Bridge, func() error {
		c, err := nftables.New()
		if err != nil {
			return err
		}
		ch := ensureTable(c, table6)
		c.AddRule(masquerade(ch.post, comment("net "+n.ID), n.Subnet6, expr.CmpOpNeq, n.Bridge))
		return c.Flush()
	})
}

// masquerade: `ip saddr FROM oifname OP BRIDGE masquerade` in chain.
func masquerade(chain *nftables.Chain, tag []byte, from netip.Prefix, op expr.CmpOp, bridge string) *nftables.Rule {
	return &nftables.Rule{Table: chain.Table, Chain: chain, UserData: tag, Exprs: concat(
		matchPrefix(false, from),
		matchIfname(expr.MetaKeyOIFNAME, op, bridge),
		[]expr.Any{&expr.Masq{}},
	)}
}

// delNetworkRules removes n's rules (and no other).
func delNetworkRules(log *trace.Log, n *Network) error {
	return log.Step("nft", "tables ip, ip6 hako: delete the rules of network "+n.Name, func() error {
		return delRules(func(cm string) bool { return cm == "net "+n.ID })
	})
}

// dropTableIfEmpty deletes each of hako's tables that has no rule left in
// it (the last network removed), so that a host hk is done with keeps
// nothing.
func dropTableIfEmpty(log *trace.Log) error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	for _, t := range tables {
		chs, err := c.ListChainsOfTableFamily(t.Family)
		if err != nil {
			return err
		}
		found, empty := false, true
		for _, ch := range chs {
			if ch.Table.Name != tableName {
				continue
			}
			found = true
			rules, err := c.GetRules(t, ch)
			if err != nil {
				return err
			}
			empty = empty && len(rules) == 0
		}
		if !found || !empty {
			continue
		}
		err = log.Step("nft", "delete "+tableText(t)+" (empty)", func() error {
			c.DelTable(t)
			return c.Flush()
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// portRuleTag names a published port's rule: its owner and what it holds.
func portRuleTag(container string, p Port) string {
	return fmt.Sprintf("ctr %s %s %s", container, p.Proto, p.hostAddrPort())
}

// addPortRules DNATs each published port (bindings: each with its
// HostIP's family set, bindings()) to l's address of that family, from
// outside (prerouting) and from the host itself (output): one step per
// table.
func addPortRules(log *trace.Log, l *Lease, bindings []Port) error {
	for _, to := range []netip.Addr{l.Addr, l.Addr6} {
		var ps []Port
		for _, p := range bindings {
			if to.IsValid() && p.HostIP.Is4() == to.Is4() {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			continue
		}
		t := tableFor(to)
		err := log.Step("nft", fmt.Sprintf("%s: publish %s to %s", tableText(t), portList(ps), to), func() error {
			c, err := nftables.New()
			if err != nil {
				return err
			}
			ch := ensureTable(c, t)
			for _, p := range ps {
				tag := comment(portRuleTag(l.Container, p))
				match := concat(matchDest(p.HostIP), matchPort(p.Proto, p.HostPort))
				c.AddRule(&nftables.Rule{Table: t, Chain: ch.pre, UserData: tag, Exprs: concat(match, dnat(to, p.CtrPort))})
				if to.Is6() {
					// Not from ::1: the kernel never routes a packet with
					// the loopback source out of an interface (IPv6 has no
					// route_localnet), so a DNATed SYN would vanish and the
					// client hang; left alone it is refused at once
					// (docs/networking.md).
					match = concat(notLoopback6(), match)
				}
				c.AddRule(&nftables.Rule{Table: t, Chain: ch.out, UserData: tag, Exprs: concat(match, dnat(to, p.CtrPort))})
			}
			return c.Flush()
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// delContainerRules removes every rule container owns.
func delContainerRules(log *trace.Log, container string) error {
	return log.Step("nft", "tables ip, ip6 hako: delete the rules of container "+short(container), func() error {
		return delRules(func(cm string) bool { return strings.HasPrefix(cm, "ctr "+container+" ") })
	})
}

// hakoRules calls fn with each rule of hako's tables (both families) and
// its chain. No table yet: no call.
func hakoRules(c *nftables.Conn, fn func(ch *nftables.Chain, r *nftables.Rule) error) error {
	for _, t := range tables {
		chs, err := c.ListChainsOfTableFamily(t.Family)
		if err != nil {
			return err
		}
		for _, ch := range chs {
			if ch.Table.Name != tableName {
				continue
			}
			rules, err := c.GetRules(t, ch)
			if err != nil {
				return err
			}
			for _, r := range rules {
				if err := fn(ch, r); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// delRules deletes the rules of hako's tables whose comment match accepts.
func delRules(match func(string) bool) error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	n := 0
	err = hakoRules(c, func(_ *nftables.Chain, r *nftables.Rule) error {
		if !match(commentOf(r)) {
			return nil
		}
		n++
		return c.DelRule(r)
	})
	if err != nil || n == 0 {
		return err
	}
	return c.Flush()
}

// publishedPorts lists the ports published in hako's tables, by the
// comment of each rule: "proto ip:port" -> owner container.
func publishedPorts() (map[string]string, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	err = hakoRules(c, func(ch *nftables.Chain, r *nftables.Rule) error {
		if f := strings.Fields(commentOf(r)); ch.Name == "prerouting" && len(f) == 4 && f[0] == "ctr" {
			out[f[2]+" "+f[3]] = f[1]
		}
		return nil
	})
	return out, err
}

func concat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// matchPrefix: the packet's source (dst: destination) address is in p,
// an IPv4 or an IPv6 prefix.
func matchPrefix(dst bool, p netip.Prefix) []expr.Any {
	a := p.Masked().Addr().AsSlice()
	mask := net.CIDRMask(p.Bits(), p.Addr().BitLen())
	return []expr.Any{
		addrPayload(dst, p.Addr()),
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: uint32(len(a)), Mask: mask, Xor: make([]byte, len(a))},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a},
	}
}

// addrPayload loads the source (dst: destination) address of a's family
// into register 1: IPv4 bytes 12 and 16 of the header, IPv6 8 and 24.
func addrPayload(dst bool, a netip.Addr) *expr.Payload {
	off := uint32(12)
	switch {
	case a.Is4() && dst:
		off = 16
	case a.Is6() && !dst:
		off = 8
	case a.Is6() && dst:
		off = 24
	}
	return &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: uint32(a.BitLen() / 8)}
}

// notLoopback6: ip6 daddr != ::1.
func notLoopback6() []expr.Any {
	lo := netip.IPv6Loopback()
	return []expr.Any{addrPayload(true, lo), &expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: lo.AsSlice()}}
}

func matchIfname(key expr.MetaKey, op expr.CmpOp, name string) []expr.Any {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return []expr.Any{&expr.Meta{Key: key, Register: 1}, &expr.Cmp{Op: op, Register: 1, Data: b}}
}

// matchDest: the packet is for ip, or for any local address when ip is
// unspecified (fib daddr type local: the host's own addresses, 127.0.0.1
// and ::1 too).
func matchDest(ip netip.Addr) []expr.Any {
	if ip.IsValid() && !ip.IsUnspecified() {
		return []expr.Any{addrPayload(true, ip), &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ip.AsSlice()}}
	}
	return []expr.Any{
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
	}
}

func matchPort(proto string, port uint16) []expr.Any {
	p := byte(unix.IPPROTO_TCP)
	if proto == "udp" {
		p = unix.IPPROTO_UDP
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{p}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(port)},
	}
}

func dnat(addr netip.Addr, port uint16) []expr.Any {
	family := uint32(unix.NFPROTO_IPV4)
	if addr.Is6() {
		family = unix.NFPROTO_IPV6
	}
	return []expr.Any{
		&expr.Immediate{Register: 1, Data: addr.AsSlice()},
		&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(port)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: family, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	}
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
