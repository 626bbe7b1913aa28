// Package initplan compiles a container's set-up into a plan: a flat list of
// operations over a few fd registers that the plan executor
// (internal/nsenter/c/plan.c) carries out in the container's init process
// before any Go runtime exists there.
//
// Why: the container's first process used to be a second Go program (`hako
// init`), whose start-up (runtime, package inits, a cold JSON decode of the
// whole spec, ~2.5 ms of wall time and ~330 page faults) sat on the start
// path of every container and was partly charged to the container's memory
// cgroup. The plan keeps every decision in Go, in this package, and leaves C
// only the mechanics: a generic syscall operation plus compound ones where
// the kernel's answer decides what comes next (create a missing mount point
// one component at a time inside the root, retry a remount keeping locked
// flags, mask a file or a directory, check /dev/null is 1:3, open the pty
// and take its peer with TIOCGPTPEER, look the program up in PATH, run a
// hook, copy a directory under a tmpfs for tmpcopyup).
//
// Compile is a pure function of a Config (the spec and what the runtime
// decided) and a Host (the machine's facts a plan depends on, probed once
// per container by ProbeHost): testdata/golden holds whole plans for
// known configs and hosts, compared op by op in go test, and
// internal/nsenter's tests run hako-init on compiled plans.
//
// Every operation names the trace step it belongs to; the executor speaks
// internal/syncproto's JSON, so `--trace` shows init's steps and a failure
// reaches the user as "mount proc on /proc: EPERM: ... : hint".
//
// The plan expresses every config, and is the only init (docs/design.md,
// "One init"). What the runtime prepares for it before clone: idmapped
// mounts (IDMapped; passed in Config.MountFds, init moves them), the
// directories cgroup mounts bind without a cgroup namespace
// (Config.CgroupSources, from CgroupBindSources), the socket connected to
// linux.seccomp.listenerPath (Config.ListenerFd). The state hooks and a
// seccomp agent get holds init's pid, which exists only once init is
// cloned: Plan.Bytes(pid) fills it in (kLate). ID maps written by
// newuidmap and a user namespace given by path are hako-init's own: it
// waits for the maps and re-executes itself, or joins the namespace
// before it runs the plan (internal/nsenter/c/main.c).
//
// Also here, shared with the runtime: what a mount is (IsBind, MountDesc),
// the default /dev, SELinux mount labels (mounts.go), and the host's cgroup
// hierarchies as a container sees them (ContainerHierarchies, cgroupfs.go).
package initplan
