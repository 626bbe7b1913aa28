package initproc

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"hako/internal/syncproto"
)

// setupConsole creates the container's terminal when process.terminal is
// set: a pty from the container's own devpts, the terminal side bound on
// /dev/console, and the multiplexer side sent over the console socket
// (SCM_RIGHTS, one fd, as runc does) to whoever relays it: containerd's
// shim, conmon, or `hako run` itself.
//
// openPtmx opens the multiplexer; bind, if not nil, puts the terminal side
// on /dev/console (create does, exec does not).
func (p *proc) setupConsole(openPtmx func() (*os.File, error), bind func(*os.File) error) (*os.File, error) {
	if p.cfg.Spec.Process == nil || !p.cfg.Spec.Process.Terminal {
		return nil, nil
	}
	sock, err := optionalFd(syncproto.EnvConsole, "console socket")
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
		ptmx, pts, err = openpty(openPtmx)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer ptmx.Close()
	if bind != nil {
		if err := bind(pts); err != nil {
			return nil, err
		}
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
func openpty(openPtmx func() (*os.File, error)) (*os.File, *os.File, error) {
	ptmx, err := openPtmx()
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

// openContainerPtmx opens /dev/pts/ptmx of the mount namespace init is in
// (exec), checking it is really a pty multiplexer (char 5:2), so a container
// that replaced it can't hand hako something else.
func openContainerPtmx() (*os.File, error) {
	f, err := os.OpenFile("/dev/pts/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 5 || unix.Minor(st.Rdev) != 2 {
		f.Close()
		return nil, fmt.Errorf("/dev/pts/ptmx in the container is not a pty multiplexer (char 5:2)")
	}
	return f, nil
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
