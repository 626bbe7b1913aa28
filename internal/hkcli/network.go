package hkcli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"hako/internal/hknet"
	"hako/internal/trace"
)

// `hk network`: Docker's network verbs for bridge networks
// (internal/hknet). Containers join them with `hk run --network NAME`.
func init() { register(newNetworkCmd) }

func newNetworkCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "network", Short: "Manage networks", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() }}
	c.AddCommand(netCreateCmd(env), netLsCmd(env), netInspectCmd(env), netRmCmd(env), netPruneCmd(env))
	return c
}

// networks opens the network store; bridges need root.
func (env *Env) networks() (*hknet.Store, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("bridge networks need root: rootless containers reach the outside through slirp4netns or pasta (docs/networking.md)")
	}
	return hknet.Open(env.Root)
}

// allNetworks is the store and every network in it (ls, prune).
func (env *Env) allNetworks() (*hknet.Store, []*hknet.Network, error) {
	s, err := env.networks()
	if err != nil {
		return nil, nil, err
	}
	all, err := s.List()
	return s, all, err
}

// netLog is the step log of a network command (--trace prints it).
func (env *Env) netLog() *trace.Log {
	if !env.Trace {
		return nil
	}
	return trace.New("hk", trace.Writer(os.Stderr))
}

func netCreateCmd(env *Env) *cobra.Command {
	var subnets, gateways []string
	var internal, ipv6 bool
	c := &cobra.Command{
		Use:   "create [OPTIONS] NETWORK",
		Short: "Create a network (a bridge; its containers find each other by name)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o := hknet.CreateOpts{Name: args[0], Internal: internal, IPv6: ipv6}
			if err := netAddrFlags(&o, subnets, gateways); err != nil {
				return err
			}
			s, err := env.networks()
			if err != nil {
				return err
			}
			n, err := s.Create(env.netLog(), o)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.OutOrStdout(), n.ID)
			return nil
		},
	}
	f := c.Flags()
	f.StringArrayVar(&subnets, "subnet", nil, "subnet in CIDR form, one per family (default: the first free /24 of 10.89.0.0/16; with --ipv6, the first free /64 of fd00:89::/48)")
	f.StringArrayVar(&gateways, "gateway", nil, "the bridge's address in a subnet, one per family (default: the subnet's first)")
	f.BoolVar(&internal, "internal", false, "no outbound NAT: containers reach only each other")
	f.BoolVar(&ipv6, "ipv6", false, "dual stack: an IPv6 subnet beside the IPv4 one (implied by an IPv6 --subnet)")
	f.StringP("driver", "d", "bridge", "driver (only bridge)")
	return c
}

// netAddrFlags sorts --subnet and --gateway values into o by family, as
// Docker does with its repeated flags: at most one subnet and one gateway
// of each.
func netAddrFlags(o *hknet.CreateOpts, subnets, gateways []string) error {
	for _, v := range subnets {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return usageError{fmt.Errorf("--subnet %q: %w", v, err)}
		}
		dst := &o.Subnet
		if p.Addr().Is6() {
			dst = &o.Subnet6
		}
		if dst.IsValid() {
			return usageError{fmt.Errorf("--subnet %s: one subnet of each family (have %s)", v, dst)}
		}
		*dst = p
	}
	for _, v := range gateways {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return usageError{fmt.Errorf("--gateway %q: %w", v, err)}
		}
		dst := &o.Gateway
		if a.Is6() {
			dst = &o.Gateway6
		}
		if dst.IsValid() {
			return usageError{fmt.Errorf("--gateway %s: one gateway of each family (have %s)", v, dst)}
		}
		*dst = a
	}
	return nil
}

func netLsCmd(env *Env) *cobra.Command {
	var quiet bool
	c := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List networks",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, all, err := env.allNetworks()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(c.OutOrStdout(), 0, 8, 3, ' ', 0)
			if !quiet {
				fmt.Fprintln(w, "NETWORK ID\tNAME\tDRIVER\tSUBNET")
			}
			for _, n := range all {
				if quiet {
					fmt.Fprintln(w, n.ID[:12])
				} else {
					fmt.Fprintf(w, "%s\t%s\tbridge\t%s\n", n.ID[:12], n.Name, strings.Join(subnetsOf(n), ","))
				}
			}
			return w.Flush()
		},
	}
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "only IDs")
	return c
}

// subnetsOf is n's subnets: IPv4, then IPv6 if it has one.
func subnetsOf(n *hknet.Network) []string {
	if n.IPv6 {
		return []string{n.Subnet.String(), n.Subnet6.String()}
	}
	return []string{n.Subnet.String()}
}

// netInspect is `network inspect`'s JSON: Docker's names for what hk has
// (Subnet and Gateway: the IPv4 ones; IPAM.Config: each family's, as in
// Docker).
type netInspect struct {
	Name       string
	ID         string `json:"Id"`
	Created    string
	Driver     string
	Internal   bool
	EnableIPv6 bool
	Bridge     string
	Subnet     string
	Gateway    string
	IPAM       struct{ Config []ipamConfig }
	DNS        bool `json:"DNSEnabled"`
	Containers map[string]netEndpoint
}

type ipamConfig struct{ Subnet, Gateway string }

type netEndpoint struct {
	Name        string
	IPv4Address string
	IPv6Address string
	MacVeth     string   `json:"HostVeth"`
	Aliases     []string `json:",omitempty"`
	Ports       []string `json:",omitempty"`
}

func netInspectCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect NETWORK [NETWORK...]",
		Short: "Show networks in JSON",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := env.networks()
			if err != nil {
				return err
			}
			var out []netInspect
			for _, a := range args {
				n, err := s.Get(a)
				if err != nil {
					return err
				}
				leases, err := s.Leases(n)
				if err != nil {
					return err
				}
				ni := netInspect{Name: n.Name, ID: n.ID, Created: n.Created.Format("2006-01-02T15:04:05Z07:00"), Driver: "bridge",
					Internal: n.Internal, EnableIPv6: n.IPv6, Bridge: n.Bridge, Subnet: n.Subnet.String(), Gateway: n.Gateway.String(), DNS: n.DNS,
					Containers: map[string]netEndpoint{}}
				ni.IPAM.Config = []ipamConfig{{n.Subnet.String(), n.Gateway.String()}}
				if n.IPv6 {
					ni.IPAM.Config = append(ni.IPAM.Config, ipamConfig{n.Subnet6.String(), n.Gateway6.String()})
				}
				for _, l := range leases {
					ep := netEndpoint{Name: l.Name, IPv4Address: fmt.Sprintf("%s/%d", l.Addr, n.Subnet.Bits()), MacVeth: l.Veth, Aliases: l.Aliases}
					if l.Addr6.IsValid() {
						ep.IPv6Address = fmt.Sprintf("%s/%d", l.Addr6, n.Subnet6.Bits())
					}
					for _, p := range l.Bindings() {
						ep.Ports = append(ep.Ports, p.String())
					}
					ni.Containers[l.Container] = ep
				}
				out = append(out, ni)
			}
			b, _ := json.MarshalIndent(out, "", "    ")
			fmt.Fprintln(c.OutOrStdout(), string(b))
			return nil
		},
	}
}

func netRmCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NETWORK [NETWORK...]",
		Aliases: []string{"remove"},
		Short:   "Remove networks (none of their containers may be running)",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := env.networks()
			if err != nil {
				return err
			}
			var errs []error
			for _, a := range args {
				n, err := s.Get(a)
				if err == nil {
					err = s.Remove(env.netLog(), n)
				}
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(c.OutOrStdout(), a)
			}
			return errors.Join(errs...)
		},
	}
}

func netPruneCmd(env *Env) *cobra.Command {
	c := &cobra.Command{
		Use:   "prune",
		Short: "Remove every network no container uses",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, all, err := env.allNetworks()
			if err != nil {
				return err
			}
			for _, n := range all {
				if leases, err := s.Leases(n); err != nil || len(leases) > 0 {
					continue
				}
				if err := s.Remove(env.netLog(), n); err != nil {
					return err
				}
				fmt.Fprintln(c.OutOrStdout(), n.Name)
			}
			return nil
		},
	}
	c.Flags().BoolP("force", "f", false, "do not ask (hk never asks)")
	return c
}
