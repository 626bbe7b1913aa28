// Package hknet connects hk's containers to bridge networks, as Docker's
// and podman's bridge drivers do, in-process: a Linux bridge per network,
// a veth pair per container (one end on the bridge, the other moved into
// the container's network namespace as eth0), an address from a
// concurrency-safe allocator (one file per address, created O_EXCL: CNI
// host-local's scheme), a default route, outbound NAT and published ports
// in nftables tables of hako's own ("hako", families ip and, for
// dual-stack networks, ip6), and the container's /etc/hosts and
// /etc/resolv.conf. IPv6 is opt-in per network (--ipv6), as in Docker.
//
// It speaks netlink itself (vishvananda/netlink for links, addresses and
// routes; google/nftables for rules): no plugin processes, no iptables
// binary. Every change is a step of the trace log. Every rule carries the
// owning container's ID (or the network's) as its comment, so removing one
// container's rules never touches another's.
//
// Needs root (CAP_NET_ADMIN in the initial network namespace); rootless
// containers use slirp4netns or pasta instead (not this package).
package hknet
