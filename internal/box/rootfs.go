package box

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"hako/internal/trace"
)

// RootfsDir is where a container's root is mounted (or copied).
func RootfsDir(dir string) string { return filepath.Join(dir, "rootfs") }

// Driver is how container dir's root was made: "overlay", or "vfs" (a
// copy, marked by the file "copied").
func Driver(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, "copied")); err == nil {
		return "vfs"
	}
	return "overlay"
}

// MountRootfs makes the container's root at dir/rootfs: an overlay of
// layers (bottom first, as the image store lists them) under the
// container's own upper and work dirs. When overlayfs cannot be mounted
// (driver "vfs", or the kernel refuses it, e.g. an upper dir on a file
// system overlayfs cannot use) the layers are copied into dir/rootfs
// instead, whiteouts applied: slower and bigger, but it works anywhere.
// It reports whether the root is an overlay. userxattr: hk runs in a
// user namespace, where overlayfs keeps its whiteout marks in user.*
// xattrs.
//
// volatile (for --rm containers) mounts the overlay without syncing its
// upper dir at unmount: nothing written there outlives the container.
func MountRootfs(log *trace.Log, dir string, layers []string, driver string, userxattr, volatile bool) (overlay bool, err error) {
	root := RootfsDir(dir)
	for _, d := range []string{root, filepath.Join(dir, "upper"), filepath.Join(dir, "work")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return false, err
		}
	}
	if Mounted(root) {
		return true, nil
	}
	if driver != "vfs" {
		err = mountOverlay(log, dir, layers, userxattr, volatile)
		if err == nil {
			return true, nil
		}
		if driver == "overlay" {
			return false, err
		}
	}
	if _, serr := os.Stat(filepath.Join(dir, "copied")); serr == nil {
		return false, nil
	}
	cerr := log.Step("copy layers", fmt.Sprintf("%d layers to %s (overlayfs: %v)", len(layers), root, err), func() error {
		for _, l := range layers {
			if err := applyLayer(l, root); err != nil {
				return err
			}
		}
		return os.WriteFile(filepath.Join(dir, "copied"), nil, 0o600)
	})
	return false, cerr
}

func mountOverlay(log *trace.Log, dir string, layers []string, userxattr, volatile bool) error {
	if len(layers) == 0 {
		empty := filepath.Join(dir, "empty")
		if err := os.MkdirAll(empty, 0o755); err != nil {
			return err
		}
		layers = []string{empty}
	}
	lower := make([]string, len(layers))
	for i, l := range layers { // overlayfs wants the top layer first
		lower[len(layers)-1-i] = l
	}
	data := "lowerdir=" + strings.Join(lower, ":") + ",upperdir=" + filepath.Join(dir, "upper") + ",workdir=" + filepath.Join(dir, "work")
	if userxattr {
		data += ",userxattr"
	}
	if volatile {
		data += ",volatile"
	}
	if len(data) >= unix.Getpagesize() {
		return fmt.Errorf("overlay options are %d bytes, over the page the kernel takes (%d layers)", len(data), len(layers))
	}
	root := RootfsDir(dir)
	return log.Step("mount overlay", root+" ("+data+")", func() error {
		return unix.Mount("overlay", root, "overlay", unix.MS_NODEV, data)
	})
}

// Mounted reports whether something is mounted on p (in this mount
// namespace).
func Mounted(p string) bool {
	ok, err := mountinfo.Mounted(p)
	return err == nil && ok
}

// UnmountRootfs unmounts dir/rootfs if it is mounted (detaching: a
// leftover process of the container must not keep rm from finishing).
func UnmountRootfs(log *trace.Log, dir string) error {
	root := RootfsDir(dir)
	if !Mounted(root) {
		return nil
	}
	return log.Step("umount", root, func() error {
		err := unix.Unmount(root, unix.MNT_DETACH)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	})
}
