// Package userns writes user namespace ID maps for unprivileged callers
// through the setuid helpers newuidmap/newgidmap (package uidmap), reads the
// caller's subordinate ID ranges from /etc/subuid and /etc/subgid, and says
// what to do when any of that is missing.
//
// Root (and an unprivileged caller mapping only its own uid and gid) needs
// none of this: the parent writes /proc/PID/uid_map itself.
package userns
