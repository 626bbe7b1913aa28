// Package rootfs builds the container's filesystem view inside its new mount
// namespace: the config's mounts in order, /dev with its device nodes and
// links, pivot_root (or MS_MOVE + chroot), masked and readonly paths, and the
// read-only root.
//
// Every mount target and every file or directory it creates is resolved
// inside the rootfs and opened by fd (openat2 RESOLVE_IN_ROOT through
// filepath-securejoin's pathrs-lite), and mounts are made on
// /proc/self/fd/N, so a symlink in the image can never send a mount or a
// mkdir onto the host. Needs: mount namespaces, openat2 (Linux 5.6).
//
// Preconditions: runs in init, in the container's mount namespace, before
// pivot_root for Prepare and after it for Finish.
package rootfs
