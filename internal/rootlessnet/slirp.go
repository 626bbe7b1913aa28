package rootlessnet

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"hako/internal/hknet"
	"hako/internal/trace"
)

// slirpArgs are podman's (but the MTU, see SlirpMTU): the tap configured (10.0.2.100/24, gateway
// 10.0.2.2, DNS 10.0.2.3), the host's loopback not reachable from the
// container, a sandbox (own mount namespace, capabilities dropped) and
// seccomp filter, the API socket for the published ports, and fd 3
// written once the tap is up.
func slirpArgs(base, netns string) []string {
	return []string{"--configure", fmt.Sprintf("--mtu=%d", SlirpMTU), "--disable-host-loopback", "--enable-sandbox",
		"--enable-seccomp", "--api-socket", base + ".sock", "--ready-fd=3", "--netns-type=path", netns, "tap0"}
}

// startSlirp runs slirp4netns (it stays in the foreground: a child of
// this process until this process exits), waits for it to be ready and
// adds the published ports through its API socket.
func startSlirp(log *trace.Log, dir string, r *Record) error {
	base := files(dir, r.ID)
	if len(base+".sock") >= 108 {
		return fmt.Errorf("slirp4netns API socket path %s.sock is longer than a unix socket path may be (107 bytes): use a shorter --runroot", base)
	}
	logf, err := os.OpenFile(base+".log", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	ready, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer ready.Close()
	args := slirpArgs(base, r.Netns)
	cmd := exec.Command(Slirp4netns, args...)
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = logf, logf, []*os.File{w}
	err = log.Step("slirp4netns", strings.Join(args, " "), func() error {
		err := cmd.Start()
		w.Close()
		if err != nil {
			return err
		}
		r.Pid = cmd.Process.Pid
		if err := save(dir, r); err != nil {
			return err
		}
		return waitReady(ready, base)
	})
	if err != nil {
		return err
	}
	_, udp := tcpPorts(r.Ports) // TCP: the forwarder's
	for _, p := range udp {
		if err := log.Step("slirp4netns api", "add_hostfwd "+p.String(), func() error { return addHostfwd(base+".sock", p) }); err != nil {
			return err
		}
	}
	return nil
}

// waitReady reads slirp4netns's ready byte; EOF means it exited (its log
// says why). Bounded: a helper that neither starts nor exits in 30 s is
// an error.
func waitReady(ready *os.File, base string) error {
	ready.SetReadDeadline(time.Now().Add(30 * time.Second))
	var b [1]byte
	if _, err := ready.Read(b[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("slirp4netns exited: %s", tail(base+".log"))
		}
		return fmt.Errorf("slirp4netns not ready: %w: %s", err, tail(base+".log"))
	}
	return nil
}

// addHostfwd asks slirp4netns to listen on p's host address and port and
// forward to the container's address (10.0.2.100), one request per
// connection (slirp4netns's API protocol).
func addHostfwd(sock string, p hknet.Port) error {
	c, err := net.DialTimeout("unix", sock, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	host := "0.0.0.0"
	if p.HostIP.IsValid() {
		host = p.HostIP.String()
	}
	req := map[string]any{"execute": "add_hostfwd", "arguments": map[string]any{
		"proto": p.Proto, "host_addr": host, "host_port": p.HostPort, "guest_port": p.CtrPort}}
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return err
	}
	c.(*net.UnixConn).CloseWrite()
	var resp struct {
		Error *struct{ Desc string } `json:"error"`
	}
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return fmt.Errorf("slirp4netns API answer: %w", err)
	}
	if resp.Error != nil {
		return errors.New(resp.Error.Desc)
	}
	return nil
}
