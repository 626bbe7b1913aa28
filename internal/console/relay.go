package console

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Relay is a foreground run's or exec's own console socket: init sends the
// pty master here, and hako copies between it and its own stdio, with the local
// terminal in raw mode so keys like ^C reach the container's shell.
type Relay struct {
	local *os.File
	// Remote is init's end: CreateOpts.Console / ExecOpts.Console.
	Remote *os.File
	master *os.File
	saved  *unix.Termios
	done   sync.WaitGroup
}

// NewRelay makes the socket pair; give Remote to the runtime.
func NewRelay() (*Relay, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("console socketpair: %w", err)
	}
	return &Relay{local: os.NewFile(uintptr(fds[0]), "console"), Remote: os.NewFile(uintptr(fds[1]), "console-init")}, nil
}

// Start receives the master (when the container has a terminal) and starts
// copying. A nil relay (console socket given by the caller) does nothing.
func (r *Relay) Start(terminal bool) error {
	if r == nil {
		return nil
	}
	r.Remote.Close()
	if !terminal {
		return nil
	}
	m, err := RecvFd(r.local)
	if err != nil {
		return fmt.Errorf("receive pty master: %w", err)
	}
	r.master = m
	if t, err := unix.IoctlGetTermios(0, unix.TCGETS); err == nil {
		r.saved = t
		raw := *t
		raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		raw.Oflag &^= unix.OPOST
		raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		raw.Cflag &^= unix.CSIZE | unix.PARENB
		raw.Cflag |= unix.CS8
		raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
		unix.IoctlSetTermios(0, unix.TCSETS, &raw)
	}
	r.Resize()
	go io.Copy(m, os.Stdin)
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		io.Copy(os.Stdout, m) // ends with EIO when the last terminal fd closes
	}()
	return nil
}

// Resize copies hako's window size to the container's terminal.
func (r *Relay) Resize() {
	if r == nil || r.master == nil {
		return
	}
	if ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ); err == nil {
		unix.IoctlSetWinsize(int(r.master.Fd()), unix.TIOCSWINSZ, ws)
	}
}

// Finish waits for the output to drain and restores the terminal.
func (r *Relay) Finish() {
	if r == nil || r.master == nil {
		return
	}
	r.done.Wait()
	r.restore()
}

func (r *Relay) restore() {
	if r.saved != nil {
		unix.IoctlSetTermios(0, unix.TCSETS, r.saved)
		r.saved = nil
	}
}

func (r *Relay) Close() {
	if r == nil {
		return
	}
	r.restore()
	r.local.Close()
	r.Remote.Close()
	if r.master != nil {
		r.master.Close()
	}
}

// RecvFd receives one fd sent with SCM_RIGHTS.
func RecvFd(sock *os.File) (*os.File, error) {
	buf := make([]byte, 64)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("no fd in console message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("no fd in console message")
	}
	return os.NewFile(uintptr(fds[0]), "ptmx"), nil
}
