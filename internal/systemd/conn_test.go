package systemd

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startBus runs a private dbus-daemon (scripts/deps.sh installs it) and
// returns its socket path: the client is checked against a real peer on
// a machine without systemd.
func startBus(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Fatalf("dbus-daemon not installed (scripts/deps.sh installs package dbus-daemon): %v", err)
	}
	sock := filepath.Join(t.TempDir(), "bus")
	cmd := exec.Command(bin, "--session", "--nofork", "--nopidfile", "--address=unix:path="+sock, "--print-address")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, sock) {
		t.Fatalf("dbus-daemon printed %q, %v", line, err)
	}
	return sock
}

func TestRealBus(t *testing.T) {
	sock := startBus(t)
	c, err := dialAddr(sock, true, HostUID())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId", "")
	if err != nil || len(r) != 1 || len(r[0].(string)) != 32 {
		t.Fatalf("GetId = %v, %v", r, err)
	}
	_, err = c.Call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NoSuchMethod", "")
	if !IsError(err, "org.freedesktop.DBus.Error.UnknownMethod") {
		t.Errorf("unknown method: %v", err)
	}
	// A signal: the bus announces a second connection's name.
	rule := "type='signal',interface='org.freedesktop.DBus',member='NameOwnerChanged'"
	if _, err := c.Call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", rule); err != nil {
		t.Fatal(err)
	}
	c2, err := dialAddr(sock, true, HostUID())
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
	sig, err := c.waitSignal(func(m *message) bool { return m.member == "NameOwnerChanged" }, time.Now().Add(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := sig.body[0].(string); !strings.HasPrefix(name, ":") {
		t.Errorf("NameOwnerChanged body %v", sig.body)
	}
	if _, err := c.waitSignal(func(m *message) bool { return m.member == "Nothing" }, time.Now().Add(50*time.Millisecond)); err == nil {
		t.Error("waitSignal for a signal that never comes returned no error")
	}
}

func TestAuthRefused(t *testing.T) {
	sock := startBus(t)
	if _, err := dialAddr(sock, true, 4242); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("auth as another uid: %v", err)
	}
}
