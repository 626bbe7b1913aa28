package hk

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Containers on a bridge network, as root, end to end: two containers on
// a user-defined network reach each other by name and alias; a published
// port is reached from the host's 127.0.0.1 and from a second namespace
// playing the outside world; a container's connection to that outside
// arrives from the host's address (masquerade); a taken port is an error
// naming its holder; rm leaves no veth, address lease or rule.
func TestNetworkRun(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bridge networks need root")
	}
	t.Parallel()
	h := newHK(t)
	img := boxImage(t, h, "netbox:1")
	net1 := uniq("hknet-run-")
	h.ok("network", "create", net1)
	t.Cleanup(func() { h.run("network", "rm", net1) })
	web, cli := uniq("web-"), uniq("cli-")
	t.Cleanup(func() { h.run("rm", "-f", web, cli) })
	h.ok("run", "-d", "--name", web, "--network", net1, "--network-alias", "www", "-p", "80", img,
		"sh", "-c", "mkdir -p /www && echo hello-"+web+" > /www/index.html && exec httpd -f -p 80 -h /www")
	want := "hello-" + web + "\n"
	// By name and by alias, from a second container on the network.
	for _, name := range []string{web, "www"} {
		r := netRetry(t, func() result {
			return h.run("run", "--rm", "--name", uniq("c-"), "--network", net1, img, "timeout", "5", "wget", "-qO-", "http://"+name+"/")
		}, want)
		if r.out != want {
			t.Errorf("wget http://%s/ from another container: %s", name, r)
		}
	}
	// The published port: from the host's 127.0.0.1 and from the outside.
	hostPort := netHostPort(t, h, web, "80/tcp")
	if got := netGet(t, "", "127.0.0.1:"+hostPort); got != want {
		t.Errorf("127.0.0.1:%s: %q", hostPort, got)
	}
	out := netOutside(t)
	if got := netGet(t, out.ns, net.JoinHostPort(out.hostIP, hostPort)); got != want {
		t.Errorf("from the outside namespace to %s:%s: %q", out.hostIP, hostPort, got)
	}
	// Outbound NAT: the outside's httpd tells the address it saw.
	if r := h.run("run", "--rm", "--network", net1, img, "timeout", "5", "wget", "-qO-", "http://"+out.outIP+":8000/cgi-bin/ra"); strings.TrimSpace(r.out) != out.hostIP {
		t.Errorf("container -> outside: seen from %s, want the host's %s (masquerade)", r, out.hostIP)
	}
	// The same host port again: an error naming the container that has it.
	r := h.fails([]string{"port " + hostPort + "/tcp", "already in use by container"}, "run", "-d", "--name", cli, "--network", net1, "-p", hostPort+":80", img, "true")
	if r.code != 125 {
		t.Errorf("taken port: exit %d, want 125", r.code)
	}
	veth := netVeths(t, h, web)
	h.ok("rm", "-f", web)
	// The kernel deletes the veth with the namespace, in the background.
	for _, v := range veth {
		gone := false
		for i := 0; i < 100 && !gone; i++ {
			_, err := net.InterfaceByName(v)
			if gone = err != nil; !gone {
				time.Sleep(50 * time.Millisecond)
			}
		}
		if !gone {
			t.Errorf("veth %s left 5 s after rm", v)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(h.root, "networks", net1, "leases")); len(ents) != 0 {
		t.Errorf("leases left after rm: %v", ents)
	}
	if got := netGet(t, "", "127.0.0.1:"+hostPort); strings.HasPrefix(got, "hello") {
		t.Errorf("the published port still answers after rm")
	}
}

// A SIGKILLed `hk run` leaves a lease and a veth behind; the next command
// on the network sweeps them (its container has no record).
func TestNetworkSweepAfterKill(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bridge networks need root")
	}
	t.Parallel()
	h := newHK(t)
	img := boxImage(t, h, "netkill:1")
	name := uniq("k-")
	// Kill hk as soon as the lease exists (mid-run: after attach).
	cmd := exec.Command(hkBin(), "--root", h.root, "--runroot", h.runroot, "run", "--name", name, img, "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	leases := filepath.Join(h.root, "networks", "bridge", "leases")
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if ents, _ := os.ReadDir(leases); len(ents) > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// Whatever state it died in, rm -f of the name (if its record is
	// there) and one more run on the network leave one lease: the new one.
	h.run("rm", "-f", name)
	h.ok("run", "--rm", img, "true")
	if ents, _ := os.ReadDir(leases); len(ents) != 0 {
		t.Errorf("leases left after a killed run, an rm and a run: %v", ents)
	}
	if ents, _ := os.ReadDir(filepath.Join(h.runroot, "netns")); len(ents) != 0 {
		t.Errorf("network namespaces left: %v", ents)
	}
}

// netRetry runs f until its output is want (an httpd just started), at
// most 20 times.
func netRetry(t *testing.T, f func() result, want string) result {
	var r result
	for i := 0; i < 20; i++ {
		if r = f(); r.out == want {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return r
}

// netHostPort is the host port published for ctrPort ("80/tcp").
func netHostPort(t *testing.T, h *hkEnv, name, ctrPort string) string {
	var in []struct {
		NetworkSettings struct {
			Ports map[string][]struct{ HostIp, HostPort string }
		}
	}
	if err := json.Unmarshal([]byte(h.ok("inspect", name).out), &in); err != nil || len(in) != 1 || len(in[0].NetworkSettings.Ports[ctrPort]) != 1 {
		t.Fatalf("inspect %s: no port %s (%v)", name, ctrPort, err)
	}
	return in[0].NetworkSettings.Ports[ctrPort][0].HostPort
}

// netVeths lists the host ends of name's veths: hk's `hkv` links that
// appeared with it (read from its lease files).
func netVeths(t *testing.T, h *hkEnv, name string) []string {
	files, _ := filepath.Glob(filepath.Join(h.root, "networks", "*", "leases", "*"))
	var out []string
	for _, f := range files {
		var l struct{ Name, Veth string }
		b, _ := os.ReadFile(f)
		if json.Unmarshal(b, &l) == nil && l.Name == name {
			out = append(out, l.Veth)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no lease of %s", name)
	}
	return out
}

// netGet fetches http://addr/ from the network namespace ns ("": the
// host's) with busybox wget, 3 s at most.
func netGet(t *testing.T, ns, addr string) string {
	// (busybox wget's own -T crashes Debian's busybox 1.35: timeout instead)
	args := []string{"timeout", "3", "busybox", "wget", "-qO-", "http://" + addr + "/"}
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	out, _ := exec.Command(args[0], args[1:]...).Output()
	return string(out)
}

type outsideNS struct{ ns, hostIP, outIP, hostIP6, outIP6 string }

// netOutside makes the namespace that plays the rest of the world: a veth
// from the host to it on a /30 of 10.250.0.0/16 and a /64 of
// fd00:250::/48 no route uses (the IPv6 addresses nodad: usable at once),
// and a busybox httpd in it on :8000 of each address whose cgi-bin/ra
// answers the address a request came from. All of it goes at the end of
// the test.
func netOutside(t *testing.T) outsideNS {
	o := outsideNS{ns: uniq("hkt-out-")}
	run := func(args ...string) {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	routes, _ := exec.Command("ip", "route", "show", "table", "all").Output()
	routes6, _ := exec.Command("ip", "-6", "route", "show", "table", "all").Output()
	third, group := -1, -1
	for i := 0; i < 256 && third < 0; i++ {
		if !strings.Contains(string(routes), fmt.Sprintf("10.250.%d.", i)) {
			third = i
		}
	}
	for i := 0; i < 256 && group < 0; i++ {
		if !strings.Contains(string(routes6), fmt.Sprintf("fd00:250:0:%x:", i)) {
			group = i
		}
	}
	o.hostIP, o.outIP = fmt.Sprintf("10.250.%d.1", third), fmt.Sprintf("10.250.%d.2", third)
	o.hostIP6 = netip.MustParseAddr(fmt.Sprintf("fd00:250:0:%x::1", group)).String()
	o.outIP6 = netip.MustParseAddr(fmt.Sprintf("fd00:250:0:%x::2", group)).String()
	veth := "hkto" + o.ns[len(o.ns)-8:]
	run("ip", "netns", "add", o.ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", o.ns).Run() })
	run("ip", "link", "add", veth, "type", "veth", "peer", "name", "world0", "netns", o.ns)
	t.Cleanup(func() { exec.Command("ip", "link", "del", veth).Run() })
	run("ip", "addr", "add", o.hostIP+"/30", "dev", veth)
	run("ip", "addr", "add", o.hostIP6+"/64", "dev", veth, "nodad")
	run("ip", "link", "set", veth, "up")
	run("ip", "-n", o.ns, "addr", "add", o.outIP+"/30", "dev", "world0")
	run("ip", "-n", o.ns, "addr", "add", o.outIP6+"/64", "dev", "world0", "nodad")
	run("ip", "-n", o.ns, "link", "set", "world0", "up")
	run("ip", "-n", o.ns, "link", "set", "lo", "up")
	www := t.TempDir()
	os.MkdirAll(filepath.Join(www, "cgi-bin"), 0o755)
	os.WriteFile(filepath.Join(www, "cgi-bin", "ra"), []byte("#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho \"$REMOTE_ADDR\"\n"), 0o755)
	for _, addr := range []string{o.outIP, o.outIP6} {
		hp := net.JoinHostPort(addr, "8000")
		httpd := exec.Command("ip", "netns", "exec", o.ns, "busybox", "httpd", "-f", "-p", hp, "-h", www)
		if err := httpd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { httpd.Process.Kill(); httpd.Wait() })
		for i := 0; i < 50; i++ { // until it listens
			if c, err := net.DialTimeout("tcp", hp, 200*time.Millisecond); err == nil {
				c.Close()
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return o
}

// A stopped container frees its published ports, as Docker's does: another
// may take them; starting the first again is then an error naming the
// holder, and once the port is free again it starts and answers on it.
func TestNetworkPortsFreedOnStop(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bridge networks need root")
	}
	t.Parallel()
	h := newHK(t)
	img := boxImage(t, h, "netstop:1")
	a, b := uniq("a-"), uniq("b-")
	t.Cleanup(func() { h.run("rm", "-f", a, b) })
	serveCmd := func(text string) []string {
		return []string{"sh", "-c", "mkdir -p /www && echo " + text + " > /www/index.html && exec httpd -f -p 80 -h /www"}
	}
	h.ok(append([]string{"run", "-d", "--name", a, "-p", "80", img}, serveCmd("from-a")...)...)
	port := netHostPort(t, h, a, "80/tcp")
	h.ok("stop", "-t", "1", a)
	h.ok(append([]string{"run", "-d", "--name", b, "-p", port + ":80", img}, serveCmd("from-b")...)...)
	if got := netRetry(t, func() result { return result{out: netGet(t, "", "127.0.0.1:"+port)} }, "from-b\n"); got.out != "from-b\n" {
		t.Errorf("127.0.0.1:%s after a stopped and b took the port: %q", port, got.out)
	}
	h.fails([]string{"port " + port + "/tcp", "already in use by container"}, "start", a)
	h.ok("rm", "-f", b)
	h.ok("start", a)
	if got := netRetry(t, func() result { return result{out: netGet(t, "", "127.0.0.1:"+port)} }, "from-a\n"); got.out != "from-a\n" {
		t.Errorf("127.0.0.1:%s after a started again: %q", port, got.out)
	}
}
