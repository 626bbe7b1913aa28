// Package nsenter joins existing namespaces before the Go runtime starts.
//
// The kernel refuses setns(2) into a user namespace from a multithreaded
// process, and into a mount namespace while threads share filesystem state;
// a Go program is multithreaded before main. So, like runc and podman, hako
// carries a small C constructor (nsenter.c) that runs in every hako process
// before the Go runtime, does nothing unless _HAKO_NSENTER is set, and
// otherwise:
//
//  1. opens every namespace path given (while the old mount namespace still
//     resolves them),
//  2. joins them, the user namespace first (joining it grants the
//     capabilities needed to join the others) and the mount namespace last,
//  3. if a PID namespace was joined, forks: setns(CLONE_NEWPID) only places
//     children in it. The intermediate process reports the child's pid and
//     exits; the child goes on into the Go runtime as `hako init`.
//
// It reports "pid <n>" (or "error <text>") on the fd named by
// _HAKO_NSENTER_PIPE, so the parent learns the pid of the process it must
// wait for and never has to guess why the child died.
//
// The same constructor hosts hako's container init, the plan executor
// (plan.c, see internal/initplan): with _HAKO_PLAN set it reads a plan from
// the sync socket and carries it out (after joining namespaces, for exec),
// then execs the container's program; the Go runtime never starts in that
// process.
//
// In every other hako process (the CLI) the constructor raises the timer
// slack of the main thread to 1 ms before the Go runtime creates its
// threads (see slack_for_runtime in nsenter.c); TimerSlack returns the
// original value, which every process hako starts for others gets back.
//
// This is the only cgo in hako. Linking it runs the constructor in that
// binary (harmless without the variables above). Use Env to build the
// environment for a child.
package nsenter
