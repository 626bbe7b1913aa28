package hkexec

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// payload is payload/hk, the front end built by `make build` (as
// hako-init is for internal/nsenter). A string: read in place, never
// copied onto the heap.
//
//go:embed payload/hk
var payload string

// EnvBin names the hako binary to the payload (for what it runs of the
// lean front end and the runtime).
const EnvBin = "HAKO_BIN"

// Exec replaces this process with the payload, argv[0] "hk", args after
// it. It returns only on failure.
func Exec(args []string) error {
	if len(payload) < 4 || payload[:4] != "\x7fELF" {
		return errors.New("this hako has no hk in it: build it with make build (it embeds cmd/hk)")
	}
	fd, err := sealedMemfd("hk", unsafe.Slice(unsafe.StringData(payload), len(payload)))
	if err != nil {
		return err
	}
	env := os.Environ()
	if self, err := os.Executable(); err == nil && os.Getenv(EnvBin) == "" {
		env = append(env, EnvBin+"="+self)
	}
	argv := append([]string{"hk"}, args...)
	// The kernel opens the program before it closes the close-on-exec
	// fds, so the memfd's own fd is a valid path here (glibc's fexecve).
	err = unix.Exec(fmt.Sprintf("/proc/self/fd/%d", fd), argv, env)
	unix.Close(fd)
	return fmt.Errorf("execute hk from its memfd: %w", err)
}

// sealedMemfd copies img into an executable memfd sealed against every
// change (as hako-init's, internal/nsenter): a container can never
// rewrite the program that manages it through /proc/PID/exe.
func sealedMemfd(name string, img []byte) (int, error) {
	const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if err == unix.EINVAL { // before Linux 6.3, which has no MFD_EXEC
		fd, err = unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return -1, fmt.Errorf("memfd_create %s: %w", name, err)
	}
	for b := img; len(b) > 0; {
		n, err := unix.Write(fd, b)
		if err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("write %s to its memfd: %w", name, err)
		}
		b = b[n:]
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("seal the memfd of %s: %w", name, err)
	}
	return fd, nil
}
