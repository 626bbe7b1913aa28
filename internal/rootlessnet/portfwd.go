package rootlessnet

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"hako/internal/hknet"
	"hako/internal/trace"
)

// The port forwarder: published TCP ports are not replayed through the
// helper's tap (a user-mode TCP stack or pasta's per-flow translation,
// both a copy through the tap per segment) but forwarded by a small
// process of hk's own, podman's rootlessport in spirit. It listens on the
// host's address and port in the host's network namespace (the one hk's
// user namespace shares with the host, where the host's 127.0.0.1 is) and,
// for each connection it accepts, connects to the container's address
// with a socket made in the container's network namespace; then the data
// goes kernel socket to kernel socket (io.Copy between TCP connections
// is splice(2)). UDP ports stay with the helper.
//
// The forwarder is hk itself (/proc/self/exe) run with the hidden verb
// ForwarderVerb, a child of the command that starts the helper, in its
// own session; it names the helper's files on its command line, so Stop
// finds and ends it as it does the helper.

// ForwarderVerb is the hidden first argument that makes hk (or a test
// binary) run ForwarderMain.
const ForwarderVerb = "_rootlessport"

// dialers is how many threads wait in the container's namespace to make
// connections: a connect to the container's own address completes in the
// kernel at once, so a few serve any rate of connections.
const dialers = 4

// tcpPorts and udpPorts split ports: the forwarder's and the helper's.
func tcpPorts(ports []hknet.Port) (tcp, udp []hknet.Port) {
	for _, p := range ports {
		if p.Proto == "tcp" {
			tcp = append(tcp, p)
		} else {
			udp = append(udp, p)
		}
	}
	return tcp, udp
}

// fwdSpec is a port on the forwarder's command line: HOSTIP/HOSTPORT:CTRPORT
// (HOSTIP empty: every address).
func fwdSpec(p hknet.Port) string {
	ip := ""
	if p.HostIP.IsValid() {
		ip = p.HostIP.String()
	}
	return fmt.Sprintf("%s/%d:%d", ip, p.HostPort, p.CtrPort)
}

func parseFwdSpec(s string) (listen string, ctr uint16, err error) {
	ip, rest, ok1 := strings.Cut(s, "/")
	hp, cp, ok2 := strings.Cut(rest, ":")
	_, err1 := strconv.ParseUint(hp, 10, 16)
	c, err2 := strconv.ParseUint(cp, 10, 16)
	if !ok1 || !ok2 || err1 != nil || err2 != nil {
		return "", 0, fmt.Errorf("bad port %q (want HOSTIP/HOSTPORT:CTRPORT)", s)
	}
	if ip != "" {
		if _, err := netip.ParseAddr(ip); err != nil {
			return "", 0, fmt.Errorf("bad port %q: %w", s, err)
		}
	}
	return net.JoinHostPort(ip, hp), uint16(c), nil
}

// startForwarder runs the forwarder for r's TCP ports and waits until it
// listens on all of them (or says why it cannot: a port taken is named).
func startForwarder(log *trace.Log, dir string, r *Record, ports []hknet.Port) error {
	base := files(dir, r.ID)
	logf, err := os.OpenFile(base+".fwd.log", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	ready, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer ready.Close()
	args := []string{ForwarderVerb, base, r.Netns}
	for _, p := range ports {
		args = append(args, fwdSpec(p))
	}
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: append([]string{"hk"}, args...),
		Stdout: logf, Stderr: logf, ExtraFiles: []*os.File{w},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true}}
	return log.Step("rootlessport", strings.Join(args, " "), func() error {
		err := cmd.Start()
		w.Close()
		if err != nil {
			return err
		}
		r.FwdPid = cmd.Process.Pid
		if err := os.WriteFile(base+".fwd.pid", []byte(strconv.Itoa(r.FwdPid)), 0o600); err != nil {
			return err
		}
		ready.SetReadDeadline(time.Now().Add(30 * time.Second))
		msg, err := io.ReadAll(io.LimitReader(ready, 4096))
		if s := strings.TrimSpace(string(msg)); s != "ok" {
			if s == "" {
				s = fmt.Sprintf("exited without a word (%v): %s", err, tail(base+".fwd.log"))
			}
			cmd.Process.Kill() // it exits after saying why; reaped here, not left a zombie
			cmd.Wait()
			return errors.New(s)
		}
		return nil
	})
}

// ForwarderMain is the forwarder: args are the helper's base path (only
// for Stop to recognise it), the container's network namespace and the
// ports (fwdSpec). It reports "ok" on fd 3 once it listens on every port,
// or the error, and runs until it is killed.
func ForwarderMain(args []string) int {
	ready := os.NewFile(3, "ready")
	fail := func(err error) int {
		fmt.Fprintln(ready, err)
		fmt.Fprintln(os.Stderr, "hk rootlessport:", err)
		return 1
	}
	if len(args) < 3 {
		return fail(errors.New("usage: " + ForwarderVerb + " BASE NETNS HOSTIP/HOSTPORT:CTRPORT (one or more)"))
	}
	signal.Ignore(unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)
	netns := args[1]
	// The listeners first, in this (the host's) namespace.
	type fwd struct {
		l   *net.TCPListener
		ctr uint16
	}
	var fwds []fwd
	for _, s := range args[2:] {
		addr, ctr, err := parseFwdSpec(s)
		if err != nil {
			return fail(err)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fail(fmt.Errorf("publish port %s/tcp: %w", addr, err))
		}
		fwds = append(fwds, fwd{l.(*net.TCPListener), ctr})
	}
	reqs := make(chan dialReq)
	if err := startDialers(netns, reqs); err != nil {
		return fail(err)
	}
	fmt.Fprintln(ready, "ok")
	ready.Close()
	for _, f := range fwds[1:] {
		go serve(f.l, f.ctr, reqs)
	}
	serve(fwds[0].l, fwds[0].ctr, reqs)
	return 1
}

type dialReq struct {
	port  uint16
	reply chan dialRes
}

type dialRes struct {
	c   *net.TCPConn
	err error
}

// startDialers starts the threads that make the connections into the
// container: each enters the namespace and never leaves it (setns back to
// the host's, which the initial user namespace owns, is EPERM here), so
// it stays locked until the process ends. The first one finds the
// container's address: connections go there, not to its 127.0.0.1, so
// the program sees them come from its own address and a service it bound
// on 127.0.0.1 only stays private (podman's rootlessport: CVE-2021-20199).
func startDialers(netns string, reqs chan dialReq) error {
	addrc := make(chan netip.Addr, 1)
	errc := make(chan error, dialers)
	for i := 0; i < dialers; i++ {
		go func() {
			runtime.LockOSThread()
			f, err := os.Open(netns)
			if err != nil {
				errc <- err
				return
			}
			err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
			f.Close()
			if err != nil {
				errc <- fmt.Errorf("setns %s: %w", netns, err)
				return
			}
			var addr netip.Addr
			if i == 0 {
				if addr, err = ctrAddr(); err != nil {
					errc <- err
					return
				}
				addrc <- addr
			}
			errc <- nil
			if i != 0 {
				addr = <-addrc
				addrc <- addr
			}
			d := net.Dialer{Timeout: 10 * time.Second}
			for r := range reqs {
				c, err := d.Dial("tcp", netip.AddrPortFrom(addr, r.port).String())
				if err != nil {
					r.reply <- dialRes{err: err}
					continue
				}
				r.reply <- dialRes{c: c.(*net.TCPConn)}
			}
		}()
	}
	var errs []error
	for i := 0; i < dialers; i++ {
		errs = append(errs, <-errc)
	}
	return errors.Join(errs...)
}

// ctrAddr is the container's address, in its namespace: the first of an
// interface that is up and not the loopback (slirp4netns's 10.0.2.100,
// pasta's copy of the host's), IPv4 first.
func ctrAddr() (netip.Addr, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return netip.Addr{}, err
	}
	var v6 netip.Addr
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(n.IP)
			if !ok || !ip.IsGlobalUnicast() {
				continue
			}
			if ip = ip.Unmap(); ip.Is4() {
				return ip, nil
			}
			if !v6.IsValid() {
				v6 = ip
			}
		}
	}
	if v6.IsValid() {
		return v6, nil
	}
	return netip.Addr{}, errors.New("the container's network namespace has no address to forward published ports to")
}

// serve accepts connections on l and forwards each to the container's
// port ctr.
func serve(l *net.TCPListener, ctr uint16, reqs chan dialReq) {
	for {
		c, err := l.AcceptTCP()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			fmt.Fprintln(os.Stderr, "hk rootlessport: accept:", err)
			time.Sleep(100 * time.Millisecond) // EMFILE and the like: not a busy loop
			continue
		}
		go func() {
			reply := make(chan dialRes, 1)
			reqs <- dialReq{ctr, reply}
			res := <-reply
			if res.err != nil {
				fmt.Fprintf(os.Stderr, "hk rootlessport: connect to the container's port %d: %v\n", ctr, res.err)
				c.Close()
				return
			}
			relay(c, res.c)
		}()
	}
}

// relay copies both ways until both are done: an end of file is passed on
// as a half close, an error closes both connections.
func relay(a, b *net.TCPConn) {
	done := make(chan struct{})
	one := func(dst, src *net.TCPConn) {
		if _, err := io.Copy(dst, src); err != nil {
			a.Close()
			b.Close()
		} else {
			dst.CloseWrite()
		}
	}
	go func() { one(b, a); close(done) }()
	one(a, b)
	<-done
	a.Close()
	b.Close()
}
