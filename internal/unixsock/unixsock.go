// Package unixsock connects to unix stream sockets with plain syscalls.
//
// hako only ever dials a unix socket and hands the fd on (console socket,
// seccomp listener), which the net package does too, but linking net costs
// every hako process its package initialisation (~30 us measured with
// GODEBUG=inittrace=1) on the start path.
package unixsock

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Dial connects to the unix stream socket at path and returns it as a
// blocking, close-on-exec file.
func Dial(path string) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dial unix %s: socket: %w", path, err)
	}
	for {
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("dial unix %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}
