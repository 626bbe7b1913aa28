// Package userns writes user namespace ID maps for unprivileged callers
// through the setuid helpers newuidmap/newgidmap (package uidmap), reads the
// caller's subordinate ID ranges from /etc/subuid and /etc/subgid, and says
// what to do when any of that is missing.
//
// Root (and an unprivileged caller mapping only its own uid and gid) needs
// none of this: the parent writes /proc/PID/uid_map itself.
//
// It also decides whether hako itself is rootless (Privilege, rootless.go):
// not uid 0, or uid 0 of a user namespace that is not the initial one (as
// under rootless podman), read from /proc/self/uid_map.
package userns
