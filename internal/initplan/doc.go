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
// What the plan does not express, Supported (and Compile) reports as
// *Unsupported and hako runs the Go init instead (it is still built and
// tested: `make test` runs the e2e suite a second time with HAKO_INIT=go):
// createContainer and startContainer hooks, seccomp notify and joining a
// user namespace by path. The mount-side cases it used to refuse are
// plans now: sysfs in a user namespace (an EPERM-tolerant mount, then the
// rbind of /sys, opSkipUnless), tmpcopyup (opCopyTree), idmapped mounts
// (the runtime makes them before clone and passes them in
// Config.MountFds, see IDMapped; init moves them), a cgroup mount without
// a cgroup namespace (Config.CgroupSources has a source for every
// hierarchy) and no mount namespace (a chroot). ID maps written by
// newuidmap are the executor's too: hako-init waits for them and
// re-executes itself (internal/nsenter/c/main.c).
package initplan
