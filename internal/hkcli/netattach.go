package hkcli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"hako/internal/box"
	"hako/internal/hknet"
	"hako/internal/rootlessnet"
)

// defaultNetwork is `run`'s network when --network is not given: the
// default bridge as root (Docker's), for an ordinary user a user-mode
// helper (pasta, else slirp4netns), or none where neither can work
// (docs/networking.md).
func (b *boxes) defaultNetwork(publishing bool) string {
	if os.Geteuid() == 0 && !b.rootless() {
		return hknet.DefaultName
	}
	return b.rootlessDefault(publishing)
}

// bridged reports whether mode names a bridge network.
func bridged(mode string) bool {
	return mode != "none" && mode != "host" && !strings.HasPrefix(mode, "container:") && !rootlessnet.IsMode(mode)
}

// planNetwork decides c's network before its record is made: the mode,
// the namespace it will run in, the ports it publishes (-p, and -P with
// the ports the image exposes). Nothing is made yet.
func (b *boxes) planNetwork(c *box.Container, exposed map[string]struct{}) error {
	o := &c.Opts
	if o.Network == "" {
		o.Network = b.defaultNetwork(len(o.Publish) > 0 || o.PublishAll)
	}
	switch {
	case o.Network == "none" || o.Network == "host":
		if (len(o.Publish) > 0 || o.PublishAll) && b.noNetWhy != nil {
			return fmt.Errorf("published ports need a network, and rootless hk can make none here: %w", b.noNetWhy)
		}
		if len(o.Publish) > 0 || o.PublishAll {
			return fmt.Errorf("published ports need a bridge network, not --network %s", o.Network)
		}
		return nil
	case rootlessnet.IsMode(o.Network):
		return b.planUserMode(c, exposed)
	case strings.HasPrefix(o.Network, "container:"):
		other, err := b.get(strings.TrimPrefix(o.Network, "container:"))
		if err != nil {
			return err
		}
		c.Netns = other.Netns
		if c.Netns == "" {
			st := b.status(other)
			if st.State != "running" {
				return fmt.Errorf("--network %s: that container is not running", o.Network)
			}
			c.Netns = "/proc/" + strconv.Itoa(st.Pid) + "/ns/net"
		}
		return nil
	}
	nets, err := b.env.networks()
	if err != nil {
		return err
	}
	n, err := nets.Ensure(b.log, o.Network)
	if err != nil {
		return err
	}
	if o.PublishAll {
		for p := range exposed {
			o.Publish = append(o.Publish, strings.TrimSuffix(p, "/tcp"))
		}
	}
	ps, err := ports(c)
	if err == nil {
		err = n.CheckPorts(ps)
	}
	if err != nil {
		return err
	}
	c.Netns = filepath.Join(b.env.RunRoot, "netns", c.ID)
	return nil
}

// ports parses c's -p values (checked already by the flags).
func ports(c *box.Container) ([]hknet.Port, error) {
	var out []hknet.Port
	for _, p := range c.Opts.Publish {
		ps, err := hknet.ParsePort(p)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
}

// makeNetns makes the bridge network's namespace of c (before its spec,
// which names it).
func (b *boxes) makeNetns(c *box.Container) error {
	if !bridged(c.Opts.Network) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(c.Netns), 0o700); err != nil {
		return err
	}
	return hknet.NewNetns(b.log, c.Netns)
}

// bridgeOf is c's bridge network and the store it is in; nil, nil, nil
// when c is on none, host or another container's.
func (b *boxes) bridgeOf(c *box.Container) (*hknet.Store, *hknet.Network, error) {
	if !bridged(c.Opts.Network) {
		return nil, nil, nil
	}
	nets, err := b.env.networks()
	if err != nil {
		return nil, nil, err
	}
	n, err := nets.Get(c.Opts.Network)
	if err != nil {
		return nil, nil, err
	}
	return nets, n, nil
}

// attach wires c's namespace to its bridge network (after its spec and
// /etc/hosts exist), first sweeping what killed commands left.
func (b *boxes) attach(c *box.Container) error {
	nets, n, err := b.bridgeOf(c)
	if n == nil {
		return err
	}
	b.sweepNetworks(nets)
	ps, err := ports(c)
	if err != nil {
		return err
	}
	_, err = nets.Attach(b.log, n, hknet.Endpoint{Container: c.ID, Name: c.Name, Hostname: c.Hostname(),
		Aliases: c.Opts.Aliases, Netns: c.Netns, Hosts: filepath.Join(b.dir(c), "hosts"), Ports: ps})
	return err
}

// detach undoes attach and makeNetns; each step is a no-op when done (rm
// after a crash).
func (b *boxes) detach(c *box.Container) error {
	if rootlessnet.IsMode(c.Opts.Network) {
		return b.netDown(c)
	}
	if !bridged(c.Opts.Network) || c.Netns == "" {
		return nil
	}
	nets, err := b.env.networks()
	if err != nil {
		return err
	}
	var errs []error
	if n, err := nets.Get(c.Opts.Network); err == nil {
		errs = append(errs, nets.Leave(b.log, n, c.ID))
	}
	errs = append(errs, hknet.DelNetns(b.log, c.Netns))
	return errors.Join(errs...)
}

// sweepNetworks detaches the leases of containers that have no record
// any more (a command killed between attach and rm's end) and removes
// their namespaces.
func (b *boxes) sweepNetworks(nets *hknet.Store) {
	alive := func(id string) bool { _, err := b.store.Get(id); return err == nil }
	nets.Sweep(b.log, alive)
	dir := filepath.Join(b.env.RunRoot, "netns")
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !alive(e.Name()) {
			hknet.DelNetns(b.log, filepath.Join(dir, e.Name()))
		}
	}
}

// lease is c's address lease on its bridge network, nil when it has none.
func (b *boxes) lease(nets *hknet.Store, c *box.Container) (*hknet.Network, *hknet.Lease) {
	if nets == nil || !bridged(c.Opts.Network) {
		return nil, nil
	}
	n, err := nets.Get(c.Opts.Network)
	if err != nil {
		return nil, nil
	}
	return n, nets.Find(n, c.ID)
}

// published are the ports c publishes now, each with its host address
// (0.0.0.0, ::): its lease's on a bridge, its helper's when rootless.
func (b *boxes) published(nets *hknet.Store, c *box.Container) []hknet.Port {
	if rootlessnet.IsMode(c.Opts.Network) {
		return b.rootlessPorts(c)
	}
	if _, l := b.lease(nets, c); l != nil {
		return l.Bindings()
	}
	return nil
}

// portsText is ps's PORTS column: 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, ...
func portsText(ports []hknet.Port) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// netSettings is inspect's NetworkSettings (Docker's names). As in
// Docker, the top-level addresses are the default bridge's only; each
// network's are under Networks.
type netSettings struct {
	SandboxKey string
	Ports      map[string][]portBinding `json:",omitempty"`
	addrSettings
	Networks map[string]netEndpointSettings
}

type portBinding struct{ HostIp, HostPort string }

type addrSettings struct {
	IPAddress, Gateway, MacAddress, GlobalIPv6Address, IPv6Gateway string
	IPPrefixLen, GlobalIPv6PrefixLen                               int
}

type netEndpointSettings struct {
	NetworkID string
	addrSettings
	Aliases []string
}

func (b *boxes) netSettings(c *box.Container) netSettings {
	ns := netSettings{SandboxKey: c.Netns, Networks: map[string]netEndpointSettings{}}
	var ports []hknet.Port
	if rootlessnet.IsMode(c.Opts.Network) {
		ns.Networks[c.Opts.Network] = netEndpointSettings{}
		ports = b.rootlessPorts(c)
	} else {
		nets, _ := b.env.networks()
		n, l := b.lease(nets, c)
		if l == nil {
			return ns
		}
		a := addrSettings{IPAddress: l.Addr.String(), Gateway: n.Gateway.String(), IPPrefixLen: n.Subnet.Bits(), MacAddress: hknet.MAC(l.Addr).String()}
		if l.Addr6.IsValid() {
			a.GlobalIPv6Address, a.IPv6Gateway, a.GlobalIPv6PrefixLen = l.Addr6.String(), n.Gateway6.String(), n.Subnet6.Bits()
		}
		ns.Networks[n.Name] = netEndpointSettings{NetworkID: n.ID, addrSettings: a, Aliases: l.Aliases}
		if n.Name == hknet.DefaultName {
			ns.addrSettings = a
		}
		ports = l.Bindings()
	}
	ns.Ports = map[string][]portBinding{}
	for _, p := range ports {
		key := fmt.Sprintf("%d/%s", p.CtrPort, p.Proto)
		ns.Ports[key] = append(ns.Ports[key], portBinding{HostIp: p.HostIP.String(), HostPort: strconv.Itoa(int(p.HostPort))})
	}
	return ns
}

// unpublish frees c's published ports when it has stopped.
func (b *boxes) unpublish(c *box.Container) error {
	if !bridged(c.Opts.Network) {
		return nil
	}
	nets, err := b.env.networks()
	if err != nil {
		return err
	}
	return nets.Unpublish(b.log, c.ID)
}

// republish takes c's ports again before it starts.
func (b *boxes) republish(c *box.Container) error {
	nets, n, err := b.bridgeOf(c)
	if n == nil {
		return err
	}
	return nets.Republish(b.log, n, c.ID)
}
