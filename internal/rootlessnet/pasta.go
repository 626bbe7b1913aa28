package rootlessnet

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"hako/internal/hknet"
	"hako/internal/trace"
)

// pastaArgs are podman's (4.x, 5.x) less what hk does not want: the
// namespace by path (pasta then joins no user namespace: it runs in the
// one that owns the netns already), its tap configured with the host's
// addresses and routes, the gateway not mapped to the host's loopback
// (--no-map-gw: a container must not reach the user's 127.0.0.1
// services), no automatic forwarding in either direction, only the
// published ports, and DNS forwarded from DNS(Pasta) to the host's
// resolver.
func pastaArgs(base, netns string, ports []hknet.Port) []string {
	args := []string{"--config-net", "--netns", netns, "--quiet", "--no-map-gw", "--mtu", strconv.Itoa(MTU),
		"--dns-forward", DNS(Pasta).String(), "--pid", base + ".pid", "-T", "none", "-U", "none"}
	for _, proto := range []string{"tcp", "udp"} {
		var specs []string
		for _, p := range ports {
			if p.Proto != proto {
				continue
			}
			s := fmt.Sprintf("%d:%d", p.HostPort, p.CtrPort)
			if p.HostIP.IsValid() && !p.HostIP.IsUnspecified() {
				s = p.HostIP.String() + "/" + s
			}
			specs = append(specs, s)
		}
		flag := "-t"
		if proto == "udp" {
			flag = "-u"
		}
		if len(specs) == 0 {
			args = append(args, flag, "none")
		}
		for _, s := range specs {
			args = append(args, flag, s)
		}
	}
	return args
}

// startPasta runs pasta, which configures the namespace, forks into the
// background and exits: the helper is ready when its launcher has exited
// 0, and is the pid it wrote.
func startPasta(log *trace.Log, dir string, r *Record) error {
	base := files(dir, r.ID)
	logf, err := os.OpenFile(base+".log", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	_, udp := tcpPorts(r.Ports) // TCP: the forwarder's
	args := pastaArgs(base, r.Netns, udp)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Pasta, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	err = log.Step("pasta", strings.Join(args, " "), func() error {
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%w: %s", err, tail(base+".log"))
		}
		return nil
	})
	if err != nil {
		return err
	}
	b, err := os.ReadFile(base + ".pid")
	if err != nil {
		return fmt.Errorf("pasta wrote no pid file: %w", err)
	}
	if r.Pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
		return fmt.Errorf("pasta's pid file %s: %w", base+".pid", err)
	}
	return save(dir, r)
}
