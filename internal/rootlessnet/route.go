package rootlessnet

import (
	"bufio"
	"io"
	"os"
	"strings"
)

// hasDefaultRoute reports whether the host (this network namespace) has
// an IPv4 or IPv6 default route: pasta copies the addresses and routes
// of the interface that has it into the container, and refuses to start
// without one ("No external routable interface"); slirp4netns needs none.
func hasDefaultRoute() bool {
	for _, f := range []struct {
		path string
		v6   bool
	}{{"/proc/net/route", false}, {"/proc/net/ipv6_route", true}} {
		if r, err := os.Open(f.path); err == nil {
			ok := defaultRouteIn(r, f.v6)
			r.Close()
			if ok {
				return true
			}
		}
	}
	return false
}

// defaultRouteIn reads /proc/net/route (v6: /proc/net/ipv6_route) text:
// a default route is destination 0 with prefix 0 on an interface other
// than lo (where the kernel keeps IPv6's unreachable default).
func defaultRouteIn(r io.Reader, v6 bool) bool {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case !v6 && len(f) >= 8 && f[1] == "00000000" && f[7] == "00000000":
			return true
		case v6 && len(f) >= 10 && f[0] == strings.Repeat("0", 32) && f[1] == "00" && f[9] != "lo":
			return true
		}
	}
	return false
}
