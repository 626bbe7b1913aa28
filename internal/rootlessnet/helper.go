package rootlessnet

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"hako/internal/hknet"
	"hako/internal/trace"
)

// The helpers, by their podman --network names.
const (
	Pasta       = "pasta"
	Slirp4netns = "slirp4netns"
)

// Default is the order in which a rootless container's helper is picked
// when --network names none: slirp4netns, podman 4's default. Since
// published TCP ports go through hk's own forwarder (portfwd.go), the
// helper carries only the container's own traffic, and there slirp4netns
// matched podman's default both ways in the VM (host -> container 1.32x,
// container -> host 1.03x) where pasta stayed at 0.88x outwards, while
// starting ~160 ms faster and using ~27 MB less memory per container
// (docs/networking.md, "Rootless"). pasta where slirp4netns is missing.
var Default = []string{Slirp4netns, Pasta}

// IsMode reports whether --network names a helper.
func IsMode(mode string) bool { return mode == Pasta || mode == Slirp4netns }

// MTU is pasta's tap device's, pasta's (and podman's) choice: the
// largest a tap takes, so that bulk transfers cost fewer packets.
const MTU = 65520

// SlirpMTU is slirp4netns's: podman's 65520, as pasta's. It was 32768
// while published TCP ports went through libslirp's hostfwd, where a
// connection (Debian 12's libslirp 4.7.0, kernel 6.1) stalled after its
// first 32 KB at 65000 and above; they go through hk's forwarder now
// (portfwd.go), and at 65520 the container's outbound TCP matched podman's
// in the systemd VM (0.78 against 0.76 Gbit/s, 0.55 at 32768).
const SlirpMTU = MTU

// DNS is the address the container's resolv.conf names: slirp4netns's
// built-in forwarder (10.0.2.3) or the address pasta forwards to the
// host's first name server (--dns-forward, podman's 169.254.1.1). Both
// send the query from the host, to the servers of the host's
// /etc/resolv.conf, so a host resolver on 127.0.0.53 works too.
func DNS(kind string) netip.Addr {
	if kind == Slirp4netns {
		return netip.MustParseAddr("10.0.2.3")
	}
	return netip.MustParseAddr("169.254.1.1")
}

// ResolvConf is the container's resolv.conf: the host's search and
// options lines, and the helper's DNS address as the one name server.
func ResolvConf(kind string, host []byte) []byte {
	var b strings.Builder
	for _, l := range strings.Split(string(host), "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && (f[0] == "search" || f[0] == "domain" || f[0] == "options") {
			b.WriteString(l + "\n")
		}
	}
	b.WriteString("nameserver " + DNS(kind).String() + "\n")
	return []byte(b.String())
}

// ErrUnusable: a rootless network cannot work on this host.
var ErrUnusable = errors.New("rootless networking is not usable here")

// Usable says why kind cannot run here (nil: it can): the helper is not
// installed, pasta has no default route to copy, or the user cannot open
// /dev/net/tun (where the kernel makes the tap device; some hosts leave
// it mode 0600 root).
func Usable(kind string) error {
	if _, err := exec.LookPath(kind); err != nil {
		pkg := kind
		if kind == Pasta {
			pkg = "passt"
		}
		return fmt.Errorf("%w: %s is not installed (Debian package %s)", ErrUnusable, kind, pkg)
	}
	if kind == Pasta && !hasDefaultRoute() {
		return fmt.Errorf("%w: pasta copies the host's addresses and routes from the interface with the default route, and this host has no default route", ErrUnusable)
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		why := "the user may not open it"
		var st unix.Stat_t
		if serr := unix.Stat("/dev/net/tun", &st); serr == nil {
			// (The owner is not named: inside hk's user namespace root
			// reads as the overflow uid.)
			why = fmt.Sprintf("mode %04o: only its owner may open it; root can allow every user with chmod 0666 /dev/net/tun, udev's default",
				st.Mode&0o7777)
		} else if errors.Is(err, unix.ENOENT) {
			why = "no such device: load the tun module"
		}
		return fmt.Errorf("%w: open /dev/net/tun: %s (%s)", ErrUnusable, unix.ErrnoName(errnoOf(err)), why)
	}
	unix.Close(fd)
	return nil
}

func errnoOf(err error) unix.Errno {
	var e unix.Errno
	errors.As(err, &e)
	return e
}

// Choose is the default helper of this host: the first of Default that
// is usable, or the reason none is.
func Choose() (string, error) {
	var first error
	for _, k := range Default {
		err := Usable(k)
		if err == nil {
			return k, nil
		}
		if first == nil || !strings.Contains(err.Error(), "not installed") {
			first = err
		}
	}
	return "", first
}

// Config is what Start connects.
type Config struct {
	Kind  string
	ID    string       // the container's
	Netns string       // the network namespace, bound on a file
	Dir   string       // where the helper's files go (pid, log, API socket, record)
	Ports []hknet.Port // a HostPort of 0 gets a free port
}

// Record is a running helper, as Start leaves it in Dir: enough for any
// later command to show its ports and to stop it.
type Record struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Pid  int    `json:"pid"`
	// FwdPid is the port forwarder's (the published TCP ports'), 0 when
	// there are none.
	FwdPid int          `json:"fwdPid,omitempty"`
	Netns  string       `json:"netns"`
	Ports  []hknet.Port `json:"ports,omitempty"`
}

// files are a helper's paths: by the container's short ID, so that the
// API socket's path stays within sun_path's 108 bytes.
func files(dir, id string) (base string) {
	if len(id) > 12 {
		id = id[:12]
	}
	return filepath.Join(dir, id)
}

// Start runs the helper on cfg.Netns, with the ports published, and
// records it. On failure nothing is left running and no record remains.
func Start(log *trace.Log, cfg Config) (*Record, error) {
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, err
	}
	r := &Record{ID: cfg.ID, Kind: cfg.Kind, Netns: cfg.Netns, Ports: append([]hknet.Port(nil), cfg.Ports...)}
	if err := log.Step("ports", portList(r.Ports), func() error { return choosePorts(r.Ports) }); err != nil {
		return nil, err
	}
	var err error
	switch cfg.Kind {
	case Pasta:
		err = startPasta(log, cfg.Dir, r)
	case Slirp4netns:
		err = startSlirp(log, cfg.Dir, r)
	default:
		return nil, fmt.Errorf("unknown rootless network helper %q (want pasta or slirp4netns)", cfg.Kind)
	}
	if tcp, _ := tcpPorts(r.Ports); err == nil && len(tcp) > 0 {
		if err = startForwarder(log, cfg.Dir, r, tcp); err == nil {
			err = save(cfg.Dir, r)
		}
	}
	if err != nil {
		Stop(log, cfg.Dir, cfg.ID)
		return nil, err
	}
	return r, nil
}

// choosePorts gives a free host port to each port without one and fails
// on a port a host program holds, naming it (the helper would fail to
// bind it less clearly, or, pasta, only warn).
func choosePorts(ports []hknet.Port) error {
	for i := range ports {
		p := &ports[i]
		if p.HostPort == 0 {
			free, err := hknet.FreePort(p.Proto)
			if err != nil {
				return err
			}
			p.HostPort = free
		}
		if by := hknet.PortHolder(*p); by != "" {
			return &hknet.ErrPortTaken{Port: *p, By: by}
		}
	}
	return nil
}

func portList(ps []hknet.Port) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// save writes r where Load finds it (temp file + rename: all or nothing).
func save(dir string, r *Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	p := files(dir, r.ID) + ".json"
	if err := os.WriteFile(p+".tmp", b, 0o600); err != nil {
		return err
	}
	return os.Rename(p+".tmp", p)
}

// Load reads the record of container id's helper; os.ErrNotExist when it
// has none.
func Load(dir, id string) (*Record, error) {
	b, err := os.ReadFile(files(dir, id) + ".json")
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("rootless network record of %s: %w", id, err)
	}
	return &r, nil
}

// List names the containers (short IDs) that have helper files in dir:
// a record, or only a pid file (a command killed while pasta started).
func List(dir string) []string {
	ents, _ := os.ReadDir(dir)
	seen := map[string]bool{}
	var out []string
	for _, e := range ents {
		id, _, _ := strings.Cut(e.Name(), ".")
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// tail is the end of the helper's log, for an error message (without
// pasta's complaints that it has no syslog).
func tail(logFile string) string {
	b, _ := os.ReadFile(logFile)
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "Failed to send") {
			keep = append(keep, l)
		}
	}
	if len(keep) > 5 {
		keep = keep[len(keep)-5:]
	}
	return strings.Join(keep, "; ")
}
