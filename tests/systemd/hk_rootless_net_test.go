package systemd

// Rootless hk's networks end to end, as hakouser on a host where
// /dev/net/tun is usable (Debian's 0666): pasta and slirp4netns each
// publish a port reached from the VM's 127.0.0.1, carry an outbound
// connection and a DNS query to a namespace the test made (never
// further), show the port in ps and inspect, and leave no helper process
// after rm, nor after a SIGKILLed foreground `hk run` whose container
// then died (the next command sweeps it).

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"hako/tests/internal/busyboximage"
)

// hkUser is hk as hakouser with the test's own roots.
type hkUser struct {
	hk, root, runroot string
}

func (h hkUser) argv(args ...string) []string {
	return append([]string{"setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "env",
		"HOME=/home/" + user, "USER=" + user, fmt.Sprintf("XDG_RUNTIME_DIR=/run/user/%d", userUID),
		h.hk, "--root", h.root, "--runroot", h.runroot}, args...)
}

func (h hkUser) try(args ...string) result { return try(h.argv(args...)...) }

func (h hkUser) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := h.try(args...)
	if r.code != 0 {
		t.Fatalf("hk %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// newHkUser makes hk (a symlink named hk to the binary under test) and
// the user's roots, and the image: busybox with EXPOSE 8080, imported as
// the user. All of it goes at the end, after every container is removed.
func newHkUser(t *testing.T) hkUser {
	id := newID(t)
	dir, err := os.MkdirTemp("", "hk-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	h := hkUser{hk: filepath.Join(dir, "hk"), root: "/home/" + user + "/" + id, runroot: fmt.Sprintf("/run/user/%d/%s", userUID, id)}
	t.Cleanup(func() {
		if ids := strings.Fields(h.try("ps", "-aq").stdout); len(ids) > 0 {
			h.try(append([]string{"rm", "-f"}, ids...)...)
		}
		os.RemoveAll(h.root)
		os.RemoveAll(h.runroot)
		os.RemoveAll(dir)
	})
	if err := os.Symlink(*hakoBin, h.hk); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	layer, err := busyboximage.Layer(busybox)
	if err != nil {
		t.Fatal(err)
	}
	tar := filepath.Join(dir, "rootfs.tar")
	if err := os.WriteFile(tar, layer, 0o644); err != nil {
		t.Fatal(err)
	}
	h.ok(t, "import", "--change", `CMD ["sh"]`, "--change", "EXPOSE 8080", tar, "rlnet")
	return h
}

func TestHkRootlessNetwork(t *testing.T) {
	h := newHkUser(t)
	outNS, outIP := outsideNS(t)
	www := filepath.Join(t.TempDir(), "www")
	os.MkdirAll(www, 0o755)
	os.WriteFile(filepath.Join(www, "index.html"), []byte("outside\n"), 0o644)
	httpd := exec.Command("ip", "netns", "exec", outNS, busybox, "httpd", "-f", "-p", outIP+":7777", "-h", www)
	if err := httpd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { httpd.Process.Kill(); httpd.Wait() })
	serveDNSIn(t, "/run/netns/"+outNS, outIP+":53", netip.MustParseAddr("10.1.2.3"))
	// pasta copies the interface with the default route, and the VM has
	// none: while the test runs, the default route leads into the test's
	// namespace (which answers nothing else).
	if try("ip", "route", "show", "default").stdout == "" {
		run(t, "ip", "route", "add", "default", "via", outIP, "dev", outNS)
		t.Cleanup(func() { try("ip", "route", "del", "default", "via", outIP, "dev", outNS) })
	}
	// The host's resolver, as the helpers read it: the test's server.
	old, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("/etc/resolv.conf", []byte("nameserver "+outIP+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.WriteFile("/etc/resolv.conf", old, 0o644) })

	// The default: slirp4netns (its DNS address).
	if out := h.ok(t, "run", "--rm", "rlnet", "cat", "/etc/resolv.conf"); !strings.Contains(out, "nameserver 10.0.2.3") {
		t.Errorf("the default rootless network is not slirp4netns: resolv.conf %q", out)
	}
	for i, kind := range []string{"pasta", "slirp4netns"} {
		t.Run(kind, func(t *testing.T) {
			hostPort := strconv.Itoa(18480 + i)
			name := newID(t)
			h.ok(t, "run", "-d", "--name", name, "--network", kind, "-p", "127.0.0.1:"+hostPort+":8080", "-P", "rlnet", "sh", "-c",
				"mkdir /www && echo served-by-"+kind+" > /www/index.html && exec httpd -f -p 8080 -h /www")
			pid, fwd := helperPids(t, h, name, true)
			if fwd == 0 {
				t.Errorf("no port forwarder recorded for -p")
			}
			var got string
			for i := 0; i < 50 && got != "served-by-"+kind; i++ { // httpd starting: 5 s at most
				got = strings.TrimSpace(try("timeout", "5", "busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:"+hostPort+"/").stdout)
				if got != "served-by-"+kind {
					time.Sleep(100 * time.Millisecond)
				}
			}
			if got != "served-by-"+kind {
				t.Errorf("127.0.0.1:%s -> the container's httpd: %q", hostPort, got)
			}
			if ps := h.ok(t, "ps", "--format", "{{.Ports}}"); !strings.Contains(ps, "127.0.0.1:"+hostPort+"->8080/tcp") || strings.Count(ps, "->8080/tcp") != 2 {
				t.Errorf("ps PORTS: want -p and -P's ports: %q", ps)
			}
			if in := h.ok(t, "inspect", "-f", "{{json .NetworkSettings.Ports}}", name); !strings.Contains(in, `"HostIp":"127.0.0.1","HostPort":"`+hostPort+`"`) {
				t.Errorf("inspect ports: %s", in)
			}
			if out := h.ok(t, "exec", name, "timeout", "10", "wget", "-q", "-O", "-", "http://"+outIP+":7777/"); strings.TrimSpace(out) != "outside" {
				t.Errorf("container -> %s:7777 (outbound): %q", outIP, out)
			}
			if out := h.ok(t, "exec", name, "timeout", "10", "nslookup", "probe.hako.test"); !strings.Contains(out, "10.1.2.3") {
				t.Errorf("DNS through %s's forwarder: %q", kind, out)
			}
			h.ok(t, "rm", "-f", name)
			waitGone(t, pid, kind+" after rm")
			if fwd > 0 {
				waitGone(t, fwd, "the port forwarder after rm")
			}

			// A foreground run with a published port SIGKILLed, then its
			// container killed: nobody is left to stop the helper and the
			// port forwarder but the next command.
			name = newID(t)
			killedPort := strconv.Itoa(18490 + i)
			cmd := exec.Command("setpriv", h.argv("run", "--name", name, "--network", kind, "-p", "127.0.0.1:"+killedPort+":8080", "rlnet", "sleep", "600")[1:]...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pid, fwd = helperPids(t, h, name, true)
			if fwd == 0 {
				t.Errorf("no port forwarder recorded for the killed run's -p")
			}
			waitFor(t, name+" running", 20*time.Second, func() bool {
				return strings.TrimSpace(h.try("inspect", "-f", "{{.State.Status}}", name).stdout) == "running"
			})
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			if err := unix.Kill(pid, 0); err != nil {
				t.Errorf("the helper died with hk while its container runs: %v", err)
			}
			if fwd > 0 {
				if err := unix.Kill(fwd, 0); err != nil {
					t.Errorf("the port forwarder died with hk while its container runs: %v", err)
				}
			}
			h.ok(t, "kill", name)
			h.ok(t, "ps")
			waitGone(t, pid, kind+" after a killed run")
			if fwd > 0 {
				waitGone(t, fwd, "the port forwarder after a killed run")
			}
			if l := try("ss", "-Htln", "sport = :"+killedPort).stdout; strings.TrimSpace(l) != "" {
				t.Errorf("port %s still listened on after a killed run's sweep: %s", killedPort, l)
			}
			h.ok(t, "rm", "-f", name)
		})
	}
}

// helperPids waits for the record of name's helper (with its port
// forwarder's pid too when withFwd: Start records the helper first) and
// returns both pids (0: none).
func helperPids(t *testing.T, h hkUser, name string, withFwd bool) (int, int) {
	t.Helper()
	id := ""
	waitFor(t, name+"'s ID", 20*time.Second, func() bool {
		id = strings.TrimSpace(h.try("inspect", "-f", "{{.ID}}", name).stdout)
		return id != ""
	})
	var rec struct{ Pid, FwdPid int }
	waitFor(t, name+"'s helper record", 20*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(h.root, "rootlessnet", id[:12]+".json"))
		return err == nil && json.Unmarshal(b, &rec) == nil && rec.Pid > 0 && (rec.FwdPid > 0 || !withFwd)
	})
	return rec.Pid, rec.FwdPid
}

// waitGone waits until pid is gone and reaped (no /proc entry: a zombie
// is not enough).
func waitGone(t *testing.T, pid int, what string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("helper pid %d gone (%s)", pid, what), 10*time.Second, func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
		return err != nil
	})
}

// outsideNS makes the namespace that plays the outside world: a veth
// from the VM to it, 10.251.X.1 <-> 10.251.X.2 (a /30 the VM uses for
// nothing else). It returns the namespace's name and its address.
func outsideNS(t *testing.T) (string, string) {
	b := make([]byte, 2)
	rand.Read(b)
	name := "hkrl" + hex.EncodeToString(b)
	sub := fmt.Sprintf("10.251.%d.%d", b[0], b[1]&^3)
	pre := sub[:strings.LastIndexByte(sub, '.')+1]
	last, _ := strconv.Atoi(sub[len(pre):])
	host, out := pre+strconv.Itoa(last+1), pre+strconv.Itoa(last+2)
	t.Cleanup(func() {
		try("ip", "link", "del", name)
		try("ip", "netns", "del", name)
	})
	sh(t, fmt.Sprintf(`ip netns add %[1]s && ip link add %[1]s type veth peer name world0 netns %[1]s &&
		ip addr add %[2]s/30 dev %[1]s && ip link set %[1]s up &&
		ip -n %[1]s addr add %[3]s/30 dev world0 && ip -n %[1]s link set world0 up && ip -n %[1]s link set lo up`, name, host, out))
	return name, out
}

// serveDNSIn answers A queries on addr in the namespace at ns with ip
// (other types: no answer), until the test ends.
func serveDNSIn(t *testing.T, ns, addr string, ip netip.Addr) {
	errc := make(chan error, 1)
	var pc net.PacketConn
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		f, err := os.Open(ns)
		if err == nil {
			err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
			f.Close()
		}
		if err == nil {
			pc, err = net.ListenPacket("udp4", addr)
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		b := make([]byte, 512)
		for {
			k, from, err := pc.ReadFrom(b)
			if err != nil {
				return
			}
			if k < 17 {
				continue
			}
			resp := append([]byte(nil), b[:k]...)
			resp[2], resp[3] = 0x81, 0x80 // a response, recursion available
			if binary.BigEndian.Uint16(b[k-4:]) == 1 {
				binary.BigEndian.PutUint16(resp[6:], 1)
				resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
				resp = append(resp, ip.AsSlice()...)
			}
			pc.WriteTo(resp, from)
		}
	}()
}
