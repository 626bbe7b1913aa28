package hknet

// FreePort asks the kernel for an unused host port of proto (tcp or udp),
// for ports that other code than the bridge's publishes (rootless hk's
// user-mode helpers, internal/rootlessnet).
func FreePort(proto string) (uint16, error) { return freePort(proto) }

// PortHolder names the host program that holds p ("pid 812 (nginx)",
// "another program"), "" when none does.
func PortHolder(p Port) string { return listener(p.Proto, p) }
