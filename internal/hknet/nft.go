package hknet

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"

	"hako/internal/trace"
)

// The table hako owns. Nothing else writes to it and hako writes nowhere
// else, so `nft list table ip hako` shows all of it, and removing hako's
// rules never touches a rule of Docker's, podman's or the admin's.
//
//	table ip hako {
//	  chain prerouting  { type nat hook prerouting priority dstnat; }   # -p: DNAT from outside
//	  chain output      { type nat hook output priority dstnat; }       # -p: DNAT from the host itself
//	  chain postrouting { type nat hook postrouting priority srcnat; }  # masquerade
//	}
//
// Every rule's comment names its owner: "net <network ID>" for a
// network's masquerade, "ctr <container ID> <proto> <host ip>:<port>" for
// a published port.
const tableName = "hako"

var table = &nftables.Table{Family: nftables.TableFamilyIPv4, Name: tableName}

type chains struct{ pre, out, post *nftables.Chain }

// ensureTable adds the table and its chains (nft's "add": a no-op for
// what exists).
func ensureTable(c *nftables.Conn) chains {
	c.AddTable(table)
	nat := func(name string, hook *nftables.ChainHook, prio *nftables.ChainPriority) *nftables.Chain {
		return c.AddChain(&nftables.Chain{Name: name, Table: table, Type: nftables.ChainTypeNAT, Hooknum: hook, Priority: prio})
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

// addNetworkRules: masquerade what leaves n's subnet for elsewhere (not
// for an internal network), and what reaches a container from the host's
// loopback through a published port (route_localnet, link.go).
func addNetworkRules(log *trace.Log, n *Network) error {
	return log.Step("nft", "table ip hako: masquerade "+n.Subnet.String()+" via "+n.Bridge, func() error {
		c, err := nftables.New()
		if err != nil {
			return err
		}
		ch := ensureTable(c)
		tag := comment("net " + n.ID)
		if !n.Internal {
			c.AddRule(&nftables.Rule{Table: table, Chain: ch.post, UserData: tag, Exprs: concat(
				matchPrefix(12, n.Subnet), // ip saddr SUBNET
				matchIfname(expr.MetaKeyOIFNAME, expr.CmpOpNeq, n.Bridge),
				[]expr.Any{&expr.Masq{}},
			)})
		}
		c.AddRule(&nftables.Rule{Table: table, Chain: ch.post, UserData: tag, Exprs: concat(
			matchPrefix(12, netip.MustParsePrefix("127.0.0.0/8")),
			matchIfname(expr.MetaKeyOIFNAME, expr.CmpOpEq, n.Bridge),
			[]expr.Any{&expr.Masq{}},
		)})
		return c.Flush()
	})
}

// delNetworkRules removes n's rules (and no other).
func delNetworkRules(log *trace.Log, n *Network) error {
	return log.Step("nft", "table ip hako: delete the rules of network "+n.Name, func() error {
		return delRules(func(cm string) bool { return cm == "net "+n.ID })
	})
}

// dropTableIfEmpty deletes hako's table when no rule is left in it (the
// last network removed), so that a host hk is done with keeps nothing.
func dropTableIfEmpty(log *trace.Log) error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	chs, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return err
	}
	found := false
	for _, ch := range chs {
		if ch.Table.Name != tableName {
			continue
		}
		found = true
		rules, err := c.GetRules(table, ch)
		if err != nil || len(rules) > 0 {
			return err
		}
	}
	if !found {
		return nil
	}
	return log.Step("nft", "delete table ip hako (empty)", func() error {
		c.DelTable(table)
		return c.Flush()
	})
}

// portRuleTag names a published port's rule: its owner and what it holds.
func portRuleTag(container string, p Port) string {
	return fmt.Sprintf("ctr %s %s %s", container, p.Proto, p.hostAddrPort())
}

// addPortRules DNATs each published port to addr, from outside
// (prerouting) and from the host itself (output).
func addPortRules(log *trace.Log, container string, addr netip.Addr, ports []Port) error {
	if len(ports) == 0 {
		return nil
	}
	return log.Step("nft", fmt.Sprintf("table ip hako: publish %s to %s", portList(ports), addr), func() error {
		c, err := nftables.New()
		if err != nil {
			return err
		}
		ch := ensureTable(c)
		for _, p := range ports {
			exprs := concat(matchDest(p.HostIP), matchPort(p.Proto, p.HostPort), dnat(addr, p.CtrPort))
			for _, chain := range []*nftables.Chain{ch.pre, ch.out} {
				c.AddRule(&nftables.Rule{Table: table, Chain: chain, UserData: comment(portRuleTag(container, p)), Exprs: exprs})
			}
		}
		return c.Flush()
	})
}

// delContainerRules removes every rule container owns.
func delContainerRules(log *trace.Log, container string) error {
	return log.Step("nft", "table ip hako: delete the rules of container "+short(container), func() error {
		return delRules(func(cm string) bool { return strings.HasPrefix(cm, "ctr "+container+" ") })
	})
}

// delRules deletes the rules of hako's table whose comment match accepts.
// No table yet: nothing to delete.
func delRules(match func(string) bool) error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	chs, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return err
	}
	n := 0
	for _, ch := range chs {
		if ch.Table.Name != tableName {
			continue
		}
		rules, err := c.GetRules(table, ch)
		if err != nil {
			return err
		}
		for _, r := range rules {
			if match(commentOf(r)) {
				if err := c.DelRule(r); err != nil {
					return err
				}
				n++
			}
		}
	}
	if n == 0 {
		return nil
	}
	return c.Flush()
}

// publishedPorts lists the ports published in hako's table, by the
// comment of each rule: owner container -> "proto ip:port".
func publishedPorts() (map[string]string, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, err
	}
	chs, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, ch := range chs {
		if ch.Table.Name != tableName || ch.Name != "prerouting" {
			continue
		}
		rules, err := c.GetRules(table, ch)
		if err != nil {
			return nil, err
		}
		for _, r := range rules {
			f := strings.Fields(commentOf(r))
			if len(f) == 4 && f[0] == "ctr" {
				out[f[2]+" "+f[3]] = f[1]
			}
		}
	}
	return out, nil
}

func concat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// matchPrefix: the IPv4 address at offset (12 source, 16 destination) of
// the network header is in p.
func matchPrefix(offset uint32, p netip.Prefix) []expr.Any {
	mask := make([]byte, 4)
	binary.BigEndian.PutUint32(mask, ^uint32(0)<<(32-p.Bits()))
	a := p.Masked().Addr().As4()
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a[:]},
	}
}

func matchIfname(key expr.MetaKey, op expr.CmpOp, name string) []expr.Any {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return []expr.Any{&expr.Meta{Key: key, Register: 1}, &expr.Cmp{Op: op, Register: 1, Data: b}}
}

// matchDest: the packet is for ip, or for any local address when ip is
// unset (fib daddr type local: the host's own addresses, 127.0.0.1 too).
func matchDest(ip netip.Addr) []expr.Any {
	if ip.IsValid() && !ip.IsUnspecified() {
		a := ip.As4()
		return []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a[:]},
		}
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
	a := addr.As4()
	return []expr.Any{
		&expr.Immediate{Register: 1, Data: a[:]},
		&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(port)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	}
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
