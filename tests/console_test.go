package tests

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// consoleSocket listens where `--console-socket` will connect and returns
// the pty master that hako sends with SCM_RIGHTS (or why it did not).
func consoleSocket(t *testing.T, path string) <-chan fdOrErr {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan fdOrErr, 1)
	go func() {
		conn, err := ln.AcceptUnix()
		if err != nil {
			ch <- fdOrErr{err: err}
			return
		}
		defer conn.Close()
		f, err := recvFd(conn)
		ch <- fdOrErr{f, err}
	}()
	return ch
}

type fdOrErr struct {
	f   *os.File
	err error
}

func recvFd(conn *net.UnixConn) (*os.File, error) {
	f, _, err := recvFdMsg(conn)
	return f, err
}

// recvFdMsg receives one fd and the message it came with.
func recvFdMsg(conn *net.UnixConn) (*os.File, []byte, error) {
	buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, nil, fmt.Errorf("no control message (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, nil, fmt.Errorf("no fd in the control message (%v)", err)
	}
	// Non-blocking, so the os.File is pollable and honours read deadlines.
	if err := unix.SetNonblock(fds[0], true); err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), "received"), buf[:n], nil
}

// TestConsoleSocket drives a terminal container through the pty master it
// hands over, with and without a user namespace (gid 5 of devpts mapped).
func TestConsoleSocket(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edits []func(*specs.Spec)
	}{
		{"plain", nil},
		{"userns gid 5 mapped", []func(*specs.Spec){withUserNS(65536, 65536)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, append(tc.edits, func(s *specs.Spec) {
				s.Process.Terminal = true
				s.Process.Args = []string{"sh"}
			})...)
			sock := filepath.Join(c.dir, "console.sock")
			masters := consoleSocket(t, sock)
			c.ok(c.withID("create", []string{"--console-socket", sock})...)
			var got fdOrErr
			select {
			case got = <-masters:
			case <-time.After(10 * time.Second):
				got.err = fmt.Errorf("nothing within 10s")
			}
			if got.err != nil {
				t.Fatalf("no pty master received on the console socket: %v", got.err)
			}
			master := got.f
			defer master.Close()
			c.ok("start", c.id)
			if _, err := master.Write([]byte("echo hi; tty; exit\n")); err != nil {
				t.Fatal(err)
			}
			master.SetReadDeadline(time.Now().Add(10 * time.Second))
			out, _ := io.ReadAll(master) // ends with EIO once the shell exits
			if !regexp.MustCompile(`\nhi\r?\n`).Match(out) || !strings.Contains(string(out), "/dev/pts/0") {
				t.Errorf("terminal session printed %q, want hi and /dev/pts/0", out)
			}
			c.waitStatus(specs.StateStopped)
		})
	}
}

// TestDevptsGidUnmapped is the seed failure: devpts gid=5 in a user
// namespace that does not map gid 5 must be refused before anything is set
// up, with an error naming the mount and the option.
func TestDevptsGidUnmapped(t *testing.T) {
	for _, tc := range []struct {
		name             string
		uidSize, gidSize uint32
	}{
		{"gid size 1", 65536, 1},
		{"uid and gid size 1", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, withUserNS(tc.uidSize, tc.gidSize))
			r := c.hako(append([]string{"--trace"}, c.withID("create", nil)...)...)
			if r.code == 0 {
				t.Fatalf("create succeeded: %s", r)
			}
			t.Log(r.err)
			for _, w := range []string{"devpts", "/dev/pts", "gid=5"} {
				if !strings.Contains(r.err, w) {
					t.Errorf("error does not name %q: %s", w, r.err)
				}
			}
			if regexp.MustCompile(`\] hako +(clone|mkfifo)`).MatchString(r.err) {
				t.Errorf("create set things up before refusing:\n%s", r.err)
			}
		})
	}
}
