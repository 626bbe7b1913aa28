package rootlessnet

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"hako/internal/trace"
)

// NewNetns makes a network namespace owned by this process's user
// namespace and binds it on path (in this process's mount namespace: a
// rootless hk's own, which the container's runtime and the helper share).
// hknet.NewNetns cannot serve here: its thread goes back to the host's
// namespace afterwards, and setns into a namespace that the initial user
// namespace owns is EPERM for a user. So the thread that made it is never
// unlocked and dies with its goroutine (Go then never reuses it).
func NewNetns(log *trace.Log, path string) error {
	return log.Step("netns", "new (rootless), bound on "+path, func() error {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
		if err != nil {
			return err
		}
		f.Close()
		errc := make(chan error, 1)
		go func() {
			runtime.LockOSThread()
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				errc <- fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
				return
			}
			errc <- unix.Mount("/proc/thread-self/ns/net", path, "", unix.MS_BIND, "")
		}()
		if err := <-errc; err != nil {
			os.Remove(path)
			return err
		}
		return nil
	})
}

// RemoveNetns unbinds and removes path. The unmount is tried only where
// this process may (a rootless command outside hk's user namespace may
// not, and there path is no mount point anyway). Gone is no error.
func RemoveNetns(log *trace.Log, path string) error {
	return log.Step("netns", "remove "+path, func() error {
		err := unix.Unmount(path, unix.MNT_DETACH)
		if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EPERM) {
			return err
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	})
}
