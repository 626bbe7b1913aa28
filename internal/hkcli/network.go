package hkcli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
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

// netLog is the step log of a network command (--trace prints it).
func (env *Env) netLog() *trace.Log {
	if !env.Trace {
		return nil
	}
	return trace.New("hk", trace.Writer(os.Stderr))
}

func netCreateCmd(env *Env) *cobra.Command {
	var subnet, gateway string
	var internal bool
	c := &cobra.Command{
		Use:   "create [OPTIONS] NETWORK",
		Short: "Create a network (a bridge; its containers find each other by name)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o := hknet.CreateOpts{Name: args[0], Internal: internal}
			var err error
			if subnet != "" {
				if o.Subnet, err = netip.ParsePrefix(subnet); err != nil {
					return usageError{fmt.Errorf("--subnet %q: %w", subnet, err)}
				}
			}
			if gateway != "" {
				if o.Gateway, err = netip.ParseAddr(gateway); err != nil {
					return usageError{fmt.Errorf("--gateway %q: %w", gateway, err)}
				}
			}
			s, err := env.networks()
			if err != nil {
				return err
			}
			n, err := s.Create(o)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.OutOrStdout(), n.ID)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&subnet, "subnet", "", "subnet in CIDR form (default: the first free /24 of 10.89.0.0/16)")
	f.StringVar(&gateway, "gateway", "", "the bridge's address (default: the subnet's first)")
	f.BoolVar(&internal, "internal", false, "no outbound NAT: containers reach only each other")
	f.StringP("driver", "d", "bridge", "driver (only bridge)")
	return c
}

func netLsCmd(env *Env) *cobra.Command {
	var quiet bool
	c := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List networks",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := env.networks()
			if err != nil {
				return err
			}
			all, err := s.List()
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
					fmt.Fprintf(w, "%s\t%s\tbridge\t%s\n", n.ID[:12], n.Name, n.Subnet)
				}
			}
			return w.Flush()
		},
	}
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "only IDs")
	return c
}

// netInspect is `network inspect`'s JSON: Docker's names for what hk has.
type netInspect struct {
	Name       string
	ID         string `json:"Id"`
	Created    string
	Driver     string
	Internal   bool
	Bridge     string
	Subnet     string
	Gateway    string
	DNS        bool `json:"DNSEnabled"`
	Containers map[string]netEndpoint
}

type netEndpoint struct {
	Name        string
	IPv4Address string
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
					Internal: n.Internal, Bridge: n.Bridge, Subnet: n.Subnet.String(), Gateway: n.Gateway.String(), DNS: n.DNS,
					Containers: map[string]netEndpoint{}}
				for _, l := range leases {
					ep := netEndpoint{Name: l.Name, IPv4Address: fmt.Sprintf("%s/%d", l.Addr, n.Subnet.Bits()), MacVeth: l.Veth, Aliases: l.Aliases}
					for _, p := range l.Ports {
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
			s, err := env.networks()
			if err != nil {
				return err
			}
			all, err := s.List()
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
