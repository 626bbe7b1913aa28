package initproc

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// loopbackUp brings lo up in the container's new network namespace, as
// runc and crun do; the kernel gives it 127.0.0.1 and ::1 once up. Not for
// a namespace joined by path. (initplan's loopbackUp is the same step.)
func (p *proc) loopbackUp() error {
	if !p.hasNewNS(specs.NetworkNamespace) {
		return nil
	}
	return p.log.Step("link up", "lo (SIOCSIFFLAGS IFF_UP)", func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		ifr, err := unix.NewIfreq("lo")
		if err != nil {
			return err
		}
		ifr.SetUint16(unix.IFF_UP)
		return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
	})
}
