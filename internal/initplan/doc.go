// Package initplan compiles a container's set-up into a plan: a flat list of
// operations over a few fd registers that the plan executor
// (internal/nsenter/c/plan.c) carries out in the container's init process
// before any Go runtime exists there.
//
// Why: the container's first process used to be a second Go program (`hako
// init`), whose start-up (runtime, package inits, a cold JSON decode of the
// whole spec, ~2.5 ms of wall time and ~330 page faults) sat on the start
// path of every container and was partly charged to the container's memory
// cgroup. The plan keeps every decision in Go, in this package, mirroring
// internal/initproc and internal/rootfs step for step, and leaves C only the
// mechanics: a generic syscall operation plus compound ones where the
// kernel's answer decides what comes next (create a missing mount point one
// component at a time inside the root, retry a remount keeping locked flags,
// mask a file or a directory, check /dev/null is 1:3, open the pty and take
// its peer with TIOCGPTPEER, look the program up in PATH).
//
// Compile is a pure function of a Config (the spec and what the runtime
// decided) and a Host (the machine's facts a plan depends on, probed once
// per container by ProbeHost): testdata/golden holds whole plans for
// known configs and hosts, compared op by op in go test.
//
// Every operation names the trace step it belongs to; the executor speaks
// internal/syncproto's JSON, so `--trace` shows init's steps as before and a
// failure reaches the user as "mount proc on /proc: EPERM: ... : hint".
//
// Since issue 15 the plan expresses every config; the Go init (run with
// HAKO_INIT=go, `make e2e-goinit`) remains until it is deleted, and
// Supported (which refuses nothing now) with it. The cases it alone used
// to run: sysfs in a user namespace (an EPERM-tolerant mount, then the
// rbind of /sys, opSkipUnless), tmpcopyup (opCopyTree), idmapped mounts
// (the runtime makes them before clone and passes them in
// Config.MountFds, see IDMapped; init moves them), a cgroup mount without
// a cgroup namespace (Config.CgroupSources has a source for every
// hierarchy), no mount namespace (a chroot); createContainer and
// startContainer hooks, run by init (opHook: fork, exec, the state on
// stdin, killed at the timeout) where the Go init ran them; seccomp
// notify (the filter's listener fd and the state go to the socket
// connected to linux.seccomp.listenerPath); and a user namespace given by
// path, which hako-init's nsenter joins before it runs the plan. The state
// hooks and a seccomp agent get holds init's pid, which exists only once
// init is cloned: Plan.Bytes(pid) fills it in (kLate). ID maps written by
// newuidmap are the executor's too: hako-init waits for them and
// re-executes itself (internal/nsenter/c/main.c).
package initplan
