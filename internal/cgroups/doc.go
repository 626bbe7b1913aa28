// Package cgroups places containers in Linux control groups and applies the
// runtime-spec's linux.resources to them.
//
// One Manager interface hides the host's layout: pure cgroup v2 (unified),
// cgroup v1 (one hierarchy per controller), and the hybrid layout (v1
// controllers plus a cgroup2 tree at /sys/fs/cgroup/unified, which may hold
// controllers such as hugetlb). Every controller goes where the host has it:
// a limit is written to the v1 hierarchy that has its controller, else to the
// cgroup2 tree if the controller is enabled there.
//
// Every cgroup write goes through trace.Log so --trace shows it and a failure
// names the file and the value.
//
// Kernel features used: cgroup v1 and/or cgroup2 filesystems; on cgroup2,
// device rules need CONFIG_CGROUP_BPF (a BPF_PROG_TYPE_CGROUP_DEVICE program),
// cgroup.kill needs Linux 5.14 and CLONE_INTO_CGROUP (CgroupFD) Linux 5.7.
//
// Not for: the systemd cgroup driver (cgroupsPath "slice:prefix:name" is
// refused); hako writes cgroupfs directly, as runc does without
// --systemd-cgroup.
package cgroups
