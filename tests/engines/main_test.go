// Package engines drives hako through the container engines people run:
// containerd 1.6 (ctr, and the CRI plugin through crictl), Docker 20.10 and
// podman 4.3, each installed from Debian's packages by
// scripts/engines/setup.sh and started by the test itself with private
// state directories and sockets, never as a system service.
//
// Run as root: go test -count=1 ./tests/engines/ -hako.bin=$PWD/bin/hako
//
// Every test asserts what the engine and the container really did (output,
// exit codes, cgroup files, engine state) and, in its cleanup, that no
// daemon, shim, mount, cgroup, network namespace or iptables rule is left.
package engines

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"hako/tests/internal/busyboximage"
)

var hakoBin = flag.String("hako.bin", "", "absolute path of the hako binary under test (the suite skips without it)")

var (
	skipReason string
	// imageTar is the busybox image, built once by TestMain; see image_test.go.
	imageTar string
	// iptablesBefore is the host's ruleset when the suite started.
	iptablesBefore string
)

// The names every engine knows the test images by (image_test.go).
const (
	imageRef = "docker.io/hako-e2e/busybox:latest"
	pauseRef = "docker.io/hako-e2e/pause:latest"
)

func TestMain(m *testing.M) {
	flag.Parse()
	switch {
	case *hakoBin == "":
		skipReason = "no -hako.bin given: engine tests need the built binary (make build; go test ./tests/engines/ -hako.bin=$PWD/bin/hako)"
	case !filepath.IsAbs(*hakoBin):
		skipReason = fmt.Sprintf("-hako.bin %q must be an absolute path", *hakoBin)
	case os.Geteuid() != 0:
		skipReason = "engine tests start containerd, dockerd and podman and must run as root"
	}
	if skipReason != "" {
		fmt.Println("engines: skipping all:", skipReason)
		os.Exit(m.Run())
	}
	if out, err := exec.Command("../../scripts/engines/setup.sh").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "engines: scripts/engines/setup.sh: %v\n%s", err, out)
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "hako-engines-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "engines:", err)
		os.Exit(1)
	}
	imageTar = filepath.Join(dir, "busybox.tar")
	// The test images: busybox with sh as its command, and a pause image
	// for CRI pod sandboxes (same layer, a command that just waits).
	if err := busyboximage.WriteArchive(imageTar, "/bin/busybox",
		busyboximage.Image{Ref: imageRef, Cmd: []string{"sh"}},
		busyboximage.Image{Ref: pauseRef, Cmd: []string{"sleep", "86400"}}); err != nil {
		fmt.Fprintln(os.Stderr, "engines: build the busybox image:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	iptablesBefore = iptablesSave()
	code := m.Run()
	if after := iptablesSave(); after != iptablesBefore {
		fmt.Fprintf(os.Stderr, "engines: leftover: the host's iptables rules changed during the run:\nbefore:\n%s\nafter:\n%s", iptablesBefore, after)
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func needRoot(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// iptablesSave is the host's ruleset, without the comments and packet
// counters that change by themselves.
func iptablesSave() string {
	var b strings.Builder
	for _, tool := range []string{"iptables-save", "ip6tables-save"} {
		out, _ := exec.Command(tool).Output()
		for _, l := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(l, "#") {
				b.WriteString(stripCounters(l) + "\n")
			}
		}
	}
	return b.String()
}

func stripCounters(l string) string {
	if strings.HasPrefix(l, ":") {
		if i := strings.LastIndex(l, " ["); i > 0 {
			return l[:i]
		}
	}
	return l
}

// uniq is prefix plus a random suffix: unique on a machine others share.
func uniq(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// result is what one command did.
type result struct {
	out, err string
	code     int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
}

// tool runs one engine CLI with fixed leading arguments and environment.
type tool struct {
	t    *testing.T
	name string
	args []string
	env  []string
}

// run runs the tool with a 60s limit. Output goes to files, not pipes: a
// daemon or container process that inherits a pipe would keep Wait from
// returning.
func (c tool) run(args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.name, append(append([]string{}, c.args...), args...)...)
	cmd.Env = append(os.Environ(), c.env...)
	out, errf := tempFile(c.t), tempFile(c.t)
	cmd.Stdout, cmd.Stderr = out, errf
	err := cmd.Run()
	r := result{out: readFile(out.Name()), err: readFile(errf.Name()), code: cmd.ProcessState.ExitCode()}
	if err != nil && r.code == 0 {
		r.code = -1
		r.err += err.Error()
	}
	c.t.Logf("%s %s -> %d", filepath.Base(c.name), strings.Join(args, " "), r.code)
	return r
}

// ok runs the tool and fails the test unless it exits 0.
func (c tool) ok(args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("%s %s: %s", c.name, strings.Join(args, " "), r)
	}
	return r
}

func tempFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// wantOut fails the test unless every want is in got.
func wantOut(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: want %q in:\n%s", what, w, got)
		}
	}
}

// waitFor polls cond every 50ms for up to 15s; cond returns whether it
// holds and, when not, why.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	why := ""
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var ok bool
		if ok, why = cond(); ok {
			return
		}
	}
	t.Fatalf("timed out waiting for %s; last: %s", what, why)
}

// daemon is a long-running engine process the test started.
type daemon struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// startDaemon starts name args with its output in log and registers a
// cleanup that stops it (SIGTERM, then SIGKILL after 20s).
func startDaemon(t *testing.T, log string, cmd *exec.Cmd) *daemon {
	t.Helper()
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	d := &daemon{cmd: cmd, done: make(chan struct{}), log: log}
	go func() { cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		d.stop(t)
		if t.Failed() {
			t.Logf("%s's log ends:\n%s", filepath.Base(cmd.Path), tail(log))
		}
	})
	return d
}

func (d *daemon) alive() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

func (d *daemon) stop(t *testing.T) {
	if !d.alive() {
		return
	}
	start := time.Now()
	d.cmd.Process.Signal(unix.SIGTERM)
	select {
	case <-d.done:
		t.Logf("%s stopped in %v", filepath.Base(d.cmd.Path), time.Since(start).Round(time.Millisecond))
	case <-time.After(20 * time.Second):
		t.Errorf("%s did not stop on SIGTERM within 20s; killing it", d.cmd.Path)
		d.cmd.Process.Kill()
		<-d.done
	}
}

// waitSocket waits until the daemon has made its API socket.
func (d *daemon) waitSocket(t *testing.T, sock string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !d.alive() {
			t.Fatalf("%s exited: %s", d.cmd.Path, tail(d.log))
		}
		if _, err := os.Stat(sock); err == nil {
			return
		}
	}
	t.Fatalf("%s made no socket %s within 30s: %s", d.cmd.Path, sock, tail(d.log))
}

// tail is the end of a log file, for failure messages.
func tail(p string) string {
	b, _ := os.ReadFile(p)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}
