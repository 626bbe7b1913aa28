// Package procself reads this process's /proc/self/mountinfo once.
//
// Both the cgroup manager (which hierarchies exist, where) and the init plan
// (which cgroup filesystems to mount in the container) need the host's mount
// table; generating it is the kernel's most expensive /proc read on the start
// path (~70 us here). hako never changes its own mount namespace's cgroup
// mounts, so one copy serves a whole process.
package procself

import (
	"sync"

	"hako/internal/rawfile"
)

var mountinfo = sync.OnceValues(func() ([]byte, error) {
	return rawfile.ReadFile("/proc/self/mountinfo")
})

// Mountinfo returns /proc/self/mountinfo as first read by this process.
// The caller must not modify it.
func Mountinfo() ([]byte, error) { return mountinfo() }
