// Package initproc is what runs inside the new namespaces as `hako init`:
// it receives the spec over the sync socket (package syncproto), builds the
// root filesystem, applies hostname, sysctls, rlimits, user, capabilities and
// no_new_privs, reports "ready", waits for `hako start` on exec.fifo, and
// execs the user program.
//
// Preconditions: capability sets, no_new_privs and seccomp are per thread.
// The package's init() locks the main goroutine to the main OS thread, and
// every step from the uid change to execve runs on it.
package initproc
