// Package rawfile reads and opens files with plain syscalls.
//
// Since Go 1.26, os.Open of a regular or proc file tries to register it with
// the runtime's poller: fcntl(O_NONBLOCK), epoll_ctl (EPERM for a regular
// file), fcntl back; the first such call also creates the poller (epoll,
// eventfd) and wakes a thread to poll it. That is six syscalls instead of
// one per file, and hako reads a dozen files on the way to starting a
// container (measured with strace). Errors are *os.PathError, as os's.
package rawfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// ReadFile reads a whole file, like os.ReadFile.
func ReadFile(path string) ([]byte, error) {
	return ReadFileLimit(path, -1)
}

// ReadFileLimit reads at most limit bytes (all of it if limit < 0).
func ReadFileLimit(path string, limit int) ([]byte, error) {
	fd, err := open(path, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	b := make([]byte, 0, 4096)
	for limit < 0 || len(b) < limit {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		end := cap(b)
		if limit >= 0 && end > limit {
			end = limit
		}
		n, err := unix.Read(fd, b[len(b):end])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			break
		}
		b = b[:len(b)+n]
	}
	return b, nil
}

// Open opens a file (O_CLOEXEC added) as an *os.File that the poller
// never sees.
func Open(path string, flags int) (*os.File, error) {
	fd, err := open(path, flags)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

func open(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

// Pipe is os.Pipe without the poller: blocking fds, so a read waits in the
// kernel and returns as soon as data arrives. (A pollable pipe parks the
// reading goroutine until a thread polls; with hako's timer slack, the
// runtime's idle threads can be asleep in a usleep for up to the slack:
// measured as 0.1 to 2.7 ms of `exec` waiting for hako-init's pid report.)
func Pipe() (r, w *os.File, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1"), nil
}
