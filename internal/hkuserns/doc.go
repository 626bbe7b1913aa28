// Package hkuserns lets an hk command run as uid 0 of a user namespace
// that maps the caller's whole subordinate ID range (podman's layout:
// container uid 0 = the user, uid N>0 = subuid base + N - 1), with a
// mount namespace of its own. Rootless hk needs it wherever files must be
// owned by IDs other than the user's (layer unpacking, a container's
// upper dir and its removal) and to mount overlayfs.
//
// Enter re-executes the current command twice: once into the new
// namespaces (clone with CLONE_NEWUSER|CLONE_NEWNS, waiting until the
// parent has run newuidmap/newgidmap), then again, because the first
// exec happened before the map existed and so dropped every capability.
// The parent waits and exits with the child's status. No namespace
// outlives its command: every command maps the same ranges, so an owner
// on disk means the same each time.
//
// Do not use it for commands that only signal or read containers: the
// user already owns the namespaces its containers run in (and so may
// signal and join them from the initial namespace). Real root never
// re-executes.
package hkuserns
