// Package seccomp compiles the runtime-spec's linux.seccomp into a classic
// BPF program for seccomp(2), in pure Go. The runtime calls Compile (or
// CompileCached) while it compiles init's plan (internal/initplan), which
// carries the program; hako-init loads it (plan.c, OP_SECCOMP) and sends a
// NOTIFY listener with ListenerState to the agent at listenerPath.
//
// Kernel: seccomp filters (3.5); then, only if the profile uses them, the
// KILL_PROCESS and LOG actions and the LOG flag (4.14), SPEC_ALLOW (4.17),
// NOTIFY (5.0) and WAIT_KILLABLE_RECV (5.19). x86 hosts only: the tables cover x86_64,
// i386 and x32, generated from the kernel's numbering by mksyscalls.go.
//
// # Why not libseccomp through cgo
//
// runc and crun build filters with libseccomp. hako is one static binary
// built with CGO_ENABLED=0; libseccomp would bring cgo, a C toolchain and a
// static libseccomp.a into every build, for one job that takes 1,000 lines of Go here, comments included.
// It is also slow. Docker's default profile (testdata/docker-default.json,
// about 370 syscalls, 3 ABIs), CPU time per compile on this machine (AMD
// EPYC, 2 CPUs, busy):
//
//	libseccomp 2.5.4, rules added as runc adds them, binary tree
//	  (SCMP_FLTATR_CTL_OPTIMIZE=2, runc's setting for long profiles):  16 ms, 1234 insns
//	libseccomp 2.5.4, default layout:                                  13 ms,  988 insns
//	this package (BenchmarkCompileDefault):                            0.14 ms, 678 insns
//
// (libseccomp from a small C program calling seccomp_rule_add_array and
// seccomp_export_bpf; runc adds cgo calls and a re-assembly pass on top.)
// The filters agree: for every syscall number 0 to 700 and around -1 of
// x86_64, x32 and i386, with argument values that hit each conditional rule,
// this package's filter returns what libseccomp's does, except for six
// syscalls newer than libseccomp 2.5.4 knows (listmount, mseal,
// *xattrat), which it drops, and the ENOSYS answer runc adds (below).
// A syscall runs through at most 18 instructions of the filter.
//
// # The cache
//
// CompileCached keeps programs by profile hash as crun does. With libseccomp
// that saves crun 13 to 16 ms per container; here a hit costs 0.034 ms of CPU
// (hash 0.012 ms, then open, fstat, read and a checksum) against 0.14 ms
// for compiling: about 0.1 ms saved per container start, which takes tens
// of milliseconds. It pays, barely, and adds a directory whose writer
// chooses every container's filter (readCache checks owner and mode). Use
// Compile unless container start-up is measured down to the last 0.1 ms.
//
// # Semantics: libseccomp's, as runc drives it
//
//   - The native ABI is always covered (seccomp_init(3)); others when listed.
//     An ABI the filter does not cover gets SCMP_ACT_KILL_THREAD, libseccomp's
//     default SCMP_FLTATR_ACT_BADARCH. x32 shares AUDIT_ARCH_X86_64 and is
//     told apart by bit 30 of the syscall number. Non-x86 architectures in
//     the profile are skipped with a warning: an x86 kernel never reports them.
//   - A name no ABI of the filter has is skipped for that ABI; one unknown to
//     every architecture is reported in Program.Warnings (runc logs it).
//   - A rule whose action is the default action is dropped (seccomp_rule_add
//     refuses it, runc skips it). A rule without conditions decides alone and
//     the first one wins (libseccomp's db.c). Conditional rules are ORed and
//     tried in profile order; conditions within a rule are ANDed, except that
//     several on the same argument become separate, ORed rules, as runc does.
//   - Arguments compare as 64-bit values on x86_64 (high half, then low) and
//     by their low 32 bits on i386 and x32 (libseccomp's ARCH_SIZE_32).
//   - Unless the default action is ALLOW, LOG or TRACE, a syscall numbered
//     above every syscall the profile names gets ENOSYS, as runc's patchbpf
//     arranges, so that libc falls back from syscalls newer than the profile.
//     runc does it for listed architectures only; here for all covered ones.
//   - SECCOMP_FILTER_FLAG_TSYNC is accepted and not passed on, as in runc
//     (see filterFlags).
//
// Not done: libseccomp rewrites i386 rules for socket(2), ipc(2) and their
// kin into the socketcall(2)/ipc(2) multiplexers; here such a rule matches
// the direct i386 syscalls (Linux 4.3+) only, and a profile must name
// socketcall and ipc to allow the multiplexers, as Docker's does.
//
// When not to use: on a non-x86 host Compile fails; that needs tables
// for the architecture, nothing else.
package seccomp
