package hk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Rootless networking where the user may not open /dev/net/tun (this
// build machine: mode 0600 root): the default falls back to none, saying
// why in one line; asking for pasta or slirp4netns, or for a published
// port, is an error that says why, and leaves no container. Where the
// user may open it, tests/systemd's TestHkRootlessNetwork runs the
// helpers end to end (the systemd VM).
func TestBoxRootlessNetworkFallback(t *testing.T) {
	var st unix.Stat_t
	if err := unix.Stat("/dev/net/tun", &st); err == nil && st.Mode&0o006 == 0o006 {
		t.Skip("/dev/net/tun is usable by every user here: tests/systemd's TestHkRootlessNetwork covers the helpers")
	}
	t.Parallel()
	h := boxRootless(t)
	img := boxRootlessImage(t, h, "rlnet")
	r := h.ok("run", "--rm", img, "sh", "-c", "ls /sys/class/net | tr '\\n' ' '; cat /etc/resolv.conf")
	if !strings.HasPrefix(r.out, "lo #") || !strings.Contains(r.out, "no name servers") {
		t.Errorf("fallback network: want only lo and no name server: %s", r)
	}
	lines := strings.Split(strings.TrimSpace(r.err), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "warning") || !strings.Contains(lines[0], "/dev/net/tun") ||
		!strings.Contains(lines[0], "--network none") {
		t.Errorf("want one warning line naming /dev/net/tun and the fallback: %q", r.err)
	}
	for _, kind := range []string{"pasta", "slirp4netns"} {
		h.fails([]string{"--network " + kind, "/dev/net/tun", "chmod"}, "run", "--rm", "--network", kind, img, "true")
	}
	h.fails([]string{"published ports need a network", "/dev/net/tun"}, "run", "--rm", "-p", "18080:80", img, "true")
	if r := h.ok("ps", "-aq"); r.out != "" {
		t.Errorf("containers left by refused runs: %q", r.out)
	}
	for _, d := range []string{filepath.Join(h.runroot, "netns"), filepath.Join(h.root, "rootlessnet"), filepath.Join(filepath.Dir(h.runroot), "netns")} {
		if ents, _ := os.ReadDir(d); len(ents) != 0 {
			t.Errorf("%s left: %v", d, ents)
		}
	}
}
