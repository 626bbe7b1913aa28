// Package box is hk's container store: each container's record (name,
// ID, image, the run options, state and exit) in a bbolt database, its
// directory (the OCI bundle hk generates, the overlay's upper and work
// dirs, the log, /etc/hosts, /etc/hostname, /etc/resolv.conf), the
// rootfs (overlayfs of the image's layers, or a copy where overlayfs
// cannot be mounted), and the OCI spec built from the image config and
// Docker's flags (functional options, as containerd's oci.SpecOpts).
//
// Layout under hk's --root:
//
//	containers/containers.db     the records (bbolt)
//	containers/ID/config.json    the bundle's spec
//	containers/ID/rootfs         the overlay mount point (root.path)
//	containers/ID/upper, work    the container's own layer
//	containers/ID/ctr.log        output, podman's k8s-file format
//	containers/ID/exit           written by the monitor when init exits
//
// The database is opened per operation and closed at once: bbolt holds a
// flock while open, and 20 hk commands at once must each get a turn.
// Nothing here runs a container: internal/container does, under hk's
// --runroot.
package box
