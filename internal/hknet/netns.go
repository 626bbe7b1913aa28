package hknet

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"hako/internal/trace"
)

// NewNetns makes a network namespace that outlives this process: a new
// one, bind-mounted onto path (as `ip netns add` does), so that it can be
// set up before the container exists and handed to the runtime by path
// (linux.namespaces network path), podman's and CNI's order.
func NewNetns(log *trace.Log, path string) error {
	return log.Step("netns", "new, bound on "+path, func() error {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
		if err != nil {
			return err
		}
		f.Close()
		if err := bindNewNetns(path); err != nil {
			os.Remove(path)
			return err
		}
		return nil
	})
}

// bindNewNetns unshares a network namespace on a locked thread, binds it
// on path and goes back. If going back fails the thread stays locked and
// dies with the goroutine (Go then never reuses it).
func bindNewNetns(path string) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
			return
		}
		err = unix.Mount("/proc/thread-self/ns/net", path, "", unix.MS_BIND, "")
		if serr := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); serr != nil {
			errc <- errors.Join(err, fmt.Errorf("back to the original network namespace: %w", serr))
			return // thread left locked: it exits with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// DelNetns unmounts and removes path; the namespace goes when nothing
// else holds it. A path that is gone is no error.
func DelNetns(log *trace.Log, path string) error {
	return log.Step("netns", "remove "+path, func() error {
		if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return err
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	})
}
