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
// set-up runs confined. init (the plan, internal/initplan's openExecAttrs;
// plan.c's OP_OPEN_ATTR) opens that file early, through a procfs it
// verified, never through a path a volume can redirect (CVE-2019-16884).
//
// Not for: loading profiles or policies (apparmor_parser, semodule do that).
package lsm
