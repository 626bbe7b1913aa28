package nsenter

import (
	_ "embed"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// image is hako-init, built from c/ by `make` (musl, static, ~70 KB).
//
//go:embed c/hako-init
var image []byte

// Init returns hako-init as a sealed memfd, made once per hako process and
// kept open for its later spawns: executable, and with every seal set
// (F_SEAL_WRITE, GROW, SHRINK, SEAL), so nothing can change it, not even
// through /proc/<init>/exe from inside a container (CVE-2019-5736).
// Copying 70 KB costs a few microseconds, unlike copying hako itself.
var Init = sync.OnceValues(func() (*os.File, error) { return Sealed("hako-init", image) })

// Sealed copies the program image into a sealed, executable memfd named
// name (the same treatment for every small program hako embeds).
func Sealed(name string, image []byte) (*os.File, error) {
	if len(image) < 4 || string(image[:4]) != "\x7fELF" {
		return nil, fmt.Errorf("%s: the embedded image is not an ELF program (build hako with make)", name)
	}
	const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if err == unix.EINVAL { // before Linux 6.3, which has no MFD_EXEC
		fd, err = unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		hint := ""
		if err == unix.EACCES {
			hint = " (vm.memfd_noexec=2 forbids executable memfds; hako needs it at 0 or 1)"
		}
		return nil, fmt.Errorf("%s: memfd_create: %w%s", name, err, hint)
	}
	for b := image; len(b) > 0; {
		n, err := unix.Write(fd, b)
		if err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("%s: write the memfd: %w", name, err)
		}
		b = b[n:]
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: seal the memfd: %w", name, err)
	}
	return os.NewFile(uintptr(fd), name+" (sealed memfd)"), nil
}
