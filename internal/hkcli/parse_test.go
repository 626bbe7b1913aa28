package hkcli

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"64m": 64 << 20, "1g": 1 << 30, "512k": 512 << 10, "1048576": 1 << 20, "1.5g": 3 << 29, "64MB": 64 << 20, "2t": 2 << 40} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "m", "-1m", "12x", "lots"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q): no error", bad)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{"KILL": unix.SIGKILL, "sigterm": unix.SIGTERM, "9": unix.SIGKILL, "USR1": unix.SIGUSR1, " hup ": unix.SIGHUP} {
		if got, err := parseSignal(in); err != nil || got != want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "BOGUS", "0", "99"} {
		if _, err := parseSignal(bad); err == nil {
			t.Errorf("parseSignal(%q): no error", bad)
		}
	}
}

func TestReadEnvFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "env")
	os.WriteFile(p, []byte("# c\n\nA=1\n  B=two words\nC\n"), 0o644)
	got, err := readEnvFile(p)
	if want := []string{"A=1", "B=two words", "C"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("readEnvFile = %q, %v; want %q", got, err, want)
	}
	os.WriteFile(p, []byte("BAD NAME=1\n"), 0o644)
	if _, err := readEnvFile(p); err == nil {
		t.Error("a name with a space accepted")
	}
	if _, err := readEnvFile(p + "-none"); err == nil {
		t.Error("a missing file accepted")
	}
}

func TestValidName(t *testing.T) {
	for n, want := range map[string]bool{"web": true, "a.b-c_d1": true, "": false, "-x": false, "a/b": false, "a b": false, "_x": false} {
		if validName(n) != want {
			t.Errorf("validName(%q) = %v", n, !want)
		}
	}
}

func TestExitCodeOf(t *testing.T) {
	for msg, want := range map[string]int{
		`lookup nosuch: "nosuch" not found in PATH /bin (ENOENT): the program (or its ELF interpreter) does not exist`: 127,
		"lookup /etc/passwd: EACCES: permission denied":                                                                126,
		"cgroup write /sys/fs/cgroup/cpuset/x/cpuset.cpus = 250: ERANGE":                                               125,
	} {
		if got := exitCodeOf(errString(msg)); got != want {
			t.Errorf("exitCodeOf(%q) = %d, want %d", msg, got, want)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }
