package hkcli

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"hako/internal/box"
	"hako/internal/hknet"
	"hako/internal/rootlessnet"
)

// A rootless container's network (--network pasta|slirp4netns, the
// default for an ordinary user where /dev/net/tun lets one work): a
// namespace owned by hk's user namespace, made and connected at each
// start by the process that then creates the container (so the program
// finds its network up), and torn down when it stops
// (docs/networking.md, "Rootless").

// rootlessDefault is a rootless `run`'s network when none is asked for:
// the preferred helper, or none with a warning naming why (podman fails
// instead; an ordinary user's containers without network still run).
// The reason is kept for planNetwork's error about published ports.
func (b *boxes) rootlessDefault(publishing bool) string {
	b.sweepRootlessNet()
	kind, err := rootlessnet.Choose()
	if err != nil {
		b.noNetWhy = err
		if !publishing { // else planNetwork fails, saying why
			fmt.Fprintf(b.warnTo(), "hk: warning: %v; the container gets --network none\n", err)
		}
		return "none"
	}
	return kind
}

func (b *boxes) warnTo() *os.File {
	if f, ok := b.warn.(*os.File); ok && f != nil {
		return f
	}
	return os.Stderr
}

// planUserMode checks an explicit --network pasta|slirp4netns and names
// the namespace the container will join.
func (b *boxes) planUserMode(c *box.Container, exposed map[string]struct{}) error {
	o := &c.Opts
	if !b.rootless() {
		return fmt.Errorf("--network %s is rootless hk's network; as root containers use bridge networks (the default, or hk network create)", o.Network)
	}
	b.sweepRootlessNet()
	if err := rootlessnet.Usable(o.Network); err != nil {
		return fmt.Errorf("--network %s: %w", o.Network, err)
	}
	if o.PublishAll {
		for p := range exposed {
			o.Publish = append(o.Publish, p)
		}
	}
	c.Netns = filepath.Join(b.env.RunRoot, "netns", c.ID)
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		c.Netns = filepath.Join(x, "netns", "hk-"+c.ID)
	}
	return nil
}

// Where the helpers' files are, for Debian 12's AppArmor profile of
// pasta (usr.bin.passt), which confines it even when a user runs it: it
// may open a network namespace only as $XDG_RUNTIME_DIR/netns/*
// (podman's directory, where hk's namespaces are hk-ID), and write its
// pid file (and its log, which it inherits) only under $HOME or /tmp:
// so the records, pid files and logs are in the storage root, not the
// run root (a record outliving a reboot names a dead pid: the sweep
// removes it).
func (b *boxes) rootlessNetDir() string { return filepath.Join(b.env.Root, "rootlessnet") }

// netUp makes c's namespace and starts its helper, before the runtime
// creates the container in it. A namespace file left by an earlier run
// is replaced.
func (b *boxes) netUp(c *box.Container) error {
	if !rootlessnet.IsMode(c.Opts.Network) {
		return nil
	}
	ps, err := ports(c)
	if err != nil {
		return err
	}
	if err := b.netDown(c); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.Netns), 0o700); err != nil {
		return err
	}
	if err := rootlessnet.NewNetns(b.log, c.Netns); err != nil {
		return err
	}
	_, err = rootlessnet.Start(b.log, rootlessnet.Config{Kind: c.Opts.Network, ID: c.ID, Netns: c.Netns, Dir: b.rootlessNetDir(), Ports: ps})
	if err != nil {
		rootlessnet.RemoveNetns(b.log, c.Netns)
		return err
	}
	return nil
}

// netDown stops c's helper and removes its namespace file; a no-op when
// there is none (every caller may call it).
func (b *boxes) netDown(c *box.Container) error {
	if !rootlessnet.IsMode(c.Opts.Network) || c.Netns == "" {
		return nil
	}
	return errors.Join(rootlessnet.Stop(b.log, b.rootlessNetDir(), c.ID), rootlessnet.RemoveNetns(b.log, c.Netns))
}

// sweepRootlessNet stops the helpers of containers that are not running
// any more with nobody left to stop them (a foreground `hk run` that was
// SIGKILLed, a monitor that died) or that are gone. A container being
// started or removed holds its lock: skipped.
func (b *boxes) sweepRootlessNet() {
	dir := b.rootlessNetDir()
	for _, id := range rootlessnet.List(dir) {
		c, err := b.store.Get(id)
		if errors.Is(err, box.ErrNotFound) {
			var netns string
			if r, err := rootlessnet.Load(dir, id); err == nil {
				netns = r.Netns
			}
			rootlessnet.Stop(b.log, dir, id)
			if netns != "" {
				rootlessnet.RemoveNetns(b.log, netns)
			}
			continue
		}
		if err != nil {
			continue
		}
		unlock, ok := b.tryLock(c)
		if !ok {
			continue
		}
		if st := b.status(c); st.State != "running" && st.State != "paused" {
			b.netDown(c)
		}
		unlock()
	}
}

// tryLock takes c's lock (see lock) if nobody holds it.
func (b *boxes) tryLock(c *box.Container) (func(), bool) {
	f, err := os.OpenFile(filepath.Join(b.dir(c), "lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, false
	}
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		f.Close()
		return nil, false
	}
	return func() { f.Close() }, true
}

// rootlessPorts are the ports c's helper publishes now (none when it is
// not running).
func (b *boxes) rootlessPorts(c *box.Container) []hknet.Port {
	if !rootlessnet.IsMode(c.Opts.Network) {
		return nil
	}
	r, err := rootlessnet.Load(b.rootlessNetDir(), c.ID)
	if err != nil {
		return nil
	}
	for i := range r.Ports {
		if !r.Ports[i].HostIP.IsValid() {
			r.Ports[i].HostIP = netip.IPv4Unspecified() // every address, as ps and inspect show it
		}
	}
	return r.Ports
}
