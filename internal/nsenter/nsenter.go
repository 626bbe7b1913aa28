package nsenter

// #cgo CFLAGS: -Wall -Wextra -O2
// extern long hako_timerslack;
import "C"

import (
	"runtime"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// joinOrder is the order namespaces are joined in: user first (it grants the
// capabilities to join the rest), mount last.
var joinOrder = map[string]int{"user": 0, "ipc": 1, "uts": 2, "net": 3, "pid": 4, "cgroup": 5, "time": 6, "mnt": 7}

// Env returns the environment entries that make the constructor join the
// given namespaces (type name as in /proc/PID/ns -> path) and report on
// pipeFd (as numbered in the child).
func Env(paths map[string]string, pipeFd int) []string {
	return EnvUnshare(paths, 0, pipeFd)
}

// EnvUnshare is Env plus new namespaces (CLONE_NEW* flags) to unshare after
// joining, so they belong to a joined user namespace.
func EnvUnshare(paths map[string]string, unshareFlags uintptr, pipeFd int) []string {
	types := make([]string, 0, len(paths))
	for t := range paths {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool { return joinOrder[types[i]] < joinOrder[types[j]] })
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = t + ":" + paths[t]
	}
	env := []string{"_HAKO_NSENTER=" + strings.Join(parts, ","), "_HAKO_NSENTER_PIPE=" + itoa(pipeFd)}
	if unshareFlags != 0 {
		env = append(env, "_HAKO_NSENTER_UNSHARE="+itoa(int(unshareFlags)))
	}
	return env
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TimerSlack is the timer slack (ns) hako was started with, before the
// constructor raised it for the Go runtime's threads; -1 if unknown.
// Processes hako starts for others get this value back.
func TimerSlack() int64 { return int64(C.hako_timerslack) }

// WithTimerSlack runs fn (which starts a process) on an OS thread whose
// timer slack is hako's original one, so the process inherits that value
// rather than the 1 ms hako's own threads run with. The thread is not
// reused afterwards.
func WithTimerSlack(fn func() error) error {
	slack := TimerSlack()
	if slack < 0 {
		return fn()
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		_ = unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(slack), 0, 0, 0)
		done <- fn()
	}()
	return <-done
}

// SetTimerSlack records the original timer slack where the process was not
// started by the user but by hako (the Go init learns it from its config).
func SetTimerSlack(ns int64) { C.hako_timerslack = C.long(ns) }
