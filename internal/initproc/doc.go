// Package initproc is the Go init, `hako init`: the container's first
// process for the configs the plan executor cannot run yet
// (initplan.Unsupported lists them; HAKO_INIT=go forces it for every
// config, which `make e2e-goinit` tests). It receives a syncproto.InitConfig (the spec
// and the facts the runtime decided) over the sync socket (package
// syncproto), builds the root filesystem (package rootfs), applies
// hostname, sysctls, rlimits, user, capabilities, seccomp and no_new_privs,
// runs the hooks that belong inside the container, reports "ready", waits
// for `hako start` on exec.fifo, and execs the user program.
//
// Preconditions: capability sets, no_new_privs and seccomp are per thread.
// Main locks its goroutine to the OS thread first, and every step from the
// uid change to execve runs on it.
package initproc
