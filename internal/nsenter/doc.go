// Package nsenter carries hako-init, the small C program (c/main.c,
// c/plan.c) that hako starts as a container's init and as the process
// `hako exec` runs, and the Go side that starts it.
//
// hako-init is built by `make` with musl into a ~70 KB static program and
// embedded in hako (c/hako-init, see Init). Each hako process copies it
// once into a sealed memfd and executes that: the kernel loads it in about
// a third of the time it takes to load hako itself (0.13 ms against 0.41
// ms, measured), no Go runtime ever starts in a container's init, and hako
// is a pure Go program with no cgo (its own start-up is ~0.4 ms shorter
// than that of the cgo-static binary it replaced; docs/benchmarks.md).
//
// hako-init does two things, in order:
//
//  1. nsenter (_HAKO_NSENTER, when asked): the kernel refuses setns(2) into a user
//     namespace from a multithreaded process, and into a mount namespace
//     while threads share filesystem state; a Go program is multithreaded
//     before main. So hako-init
//     - opens every namespace path given (while the old mount namespace
//     still resolves them),
//     - joins them, the user namespace first (joining it grants the
//     capabilities needed to join the others) and the mount namespace
//     last, then unshares the new ones asked for (_HAKO_NSENTER_UNSHARE),
//     - if a PID namespace was joined or made, forks: setns(CLONE_NEWPID)
//     only places children in it. The intermediate process reports the
//     child's pid and exits.
//     It reports "pid <n>" (or "error <text>") on the fd named by
//     _HAKO_NSENTER_PIPE, so the parent learns the pid of the process it
//     must wait for and never has to guess why the child died.
//  2. the plan (_HAKO_PLAN=<sync fd>): it reads the plan internal/initplan
//     compiled from the sync socket and carries it out (plan.c), then
//     executes the container's program. With _HAKO_WAIT_MAP it first waits
//     for newuidmap's ID maps and executes itself again (main.c wait_map).
//
// It is the only init: a Go init (`hako init`) ran beside it until the plan
// could express every config, and was then deleted (docs/design.md, "One
// init").
//
// The hako process raises the timer slack of its own threads to 4 ms at
// package init (timerslack.go); TimerSlack returns the original value,
// which every process hako starts for others gets back.
//
// Use Env to build the environment for a child.
package nsenter
