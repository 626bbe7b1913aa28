package initproc

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"hako/internal/rootfs"
)

// setupConsole creates the container's terminal when process.terminal is
// set: a pty from the container's own devpts, the terminal side bound on
// /dev/console, and the multiplexer side sent over the console socket
// (SCM_RIGHTS, one fd, as runc does) to whoever relays it: containerd's
// shim, conmon, or `hako run` itself.
func (p *proc) setupConsole(b *rootfs.Builder) (*os.File, error) {
	if p.cfg.Spec.Process == nil || !p.cfg.Spec.Process.Terminal {
		return nil, nil
	}
	sock, err := optionalFd(EnvConsole, "console socket")
	if err != nil {
		return nil, err
	}
	if sock == nil {
		return nil, fmt.Errorf("process.terminal is true but no console socket was given (use --console-socket)")
	}
	defer sock.Close()
	var ptmx, pts *os.File
	err = p.log.Step("openpty", "/dev/pts/ptmx", func() error {
		var err error
		ptmx, pts, err = openpty(b)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer ptmx.Close()
	if err := b.BindConsole(pts); err != nil {
		return nil, err
	}
	if err := p.log.Step("send console", "pty master over console socket", func() error {
		return unix.Sendmsg(int(sock.Fd()), []byte("/dev/ptmx"), unix.UnixRights(int(ptmx.Fd())), nil, 0)
	}); err != nil {
		return nil, err
	}
	return pts, nil
}

// openpty takes the terminal side with TIOCGPTPEER from the multiplexer fd
// itself, never by looking up /dev/pts/N, which a container could have
// replaced (CVE-2025-52565).
func openpty(b *rootfs.Builder) (*os.File, *os.File, error) {
	ptmx, err := b.OpenPtmx()
	if err != nil {
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		ptmx.Close()
		return nil, nil, fmt.Errorf("unlockpt: %w", err)
	}
	peer, _, errno := unix.Syscall(unix.SYS_IOCTL, ptmx.Fd(), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		ptmx.Close()
		return nil, nil, fmt.Errorf("TIOCGPTPEER: %w", errno)
	}
	return ptmx, os.NewFile(peer, "pts"), nil
}

// useConsole makes the terminal init's stdio and controlling terminal.
func useConsole(pts *os.File) error {
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(int(pts.Fd()), fd, 0); err != nil {
			return err
		}
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("TIOCSCTTY: %w", err)
	}
	return pts.Close()
}
