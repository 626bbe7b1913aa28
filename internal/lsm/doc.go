// Package lsm is what hako knows about the two Linux security modules
// container configs name: AppArmor (process.apparmorProfile) and SELinux
// (process.selinuxLabel, linux.mountLabel).
//
// It decides, as runc does, whether the host has each module (Enabled
// checks read a few sysfs files and are only made when a config asks for a
// profile or a label), checks a config against that (Check), and says what
// init writes and where: a profile or label is never applied to init
// itself, only requested for its next execve through
// /proc/thread-self/attr/.../exec (ExecAttr), so nothing of the container's
// set-up runs confined. Both inits (internal/initplan's executor and
// internal/initproc) open that file through a procfs they verified
// (OpenExecAttr), never through a path a volume can redirect
// (CVE-2019-16884).
//
// Not for: loading profiles or policies (apparmor_parser, semodule do that).
package lsm
