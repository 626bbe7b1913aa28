// Package rootlessnet connects a rootless container's network namespace to
// the outside through a user-mode network stack: pasta (package passt) or
// slirp4netns, podman's two rootless network modes. The helper runs as the
// user, in the host's network namespace, with a tap device in the
// container's: it reads the container's packets from the tap and makes
// ordinary sockets of the user's for them (outbound connections, DNS), and
// it forwards published UDP ports into the namespace. Published TCP ports
// go through hk's own forwarder (portfwd.go, podman's rootlessport way):
// a socket on the host's port, one made inside the container's namespace
// per connection, spliced together, with no user-mode stack between.
// slirp4netns is the default (Default says why, with the measurements).
//
// It needs /dev/net/tun to be usable by the user (Usable says why not) and
// a network namespace owned by the user namespace the helper runs in (hk's
// rootless user namespace, internal/hkuserns). The helper outlives the
// command that starts it; Record and Stop find and end it again, by pid
// checked against its command line, from any later command.
//
// Not for root: hk's root containers use bridges (internal/hknet).
package rootlessnet
