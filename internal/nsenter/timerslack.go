package nsenter

import (
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// slackNs is the timer slack hako gives its own threads: 4 ms.
const slackNs = 4000000

// original is the timer slack hako was started with (ns), -1 if unknown.
var original int64 = -1

// init gives every thread of this process 4 ms of timer slack, as early as
// a Go program can: package init, on the main thread, with only the Go
// runtime's first threads (sysmon among them) already running. Threads
// made later inherit it from the thread that makes them. sysmon polls
// every 20 us while a goroutine sits in a syscall, and idle threads
// usleep while looking for work to steal, so a hako process blocked on
// cgroup or mount locks woke up hundreds of times; with 50 containers
// starting at once that was ~12% of the wall time with the default 50 us
// (measured, docs/benchmarks.md); 4 ms took ~4% more off than 1 ms. Nothing
// on hako's start path waits for a timer or for the poller (blocking
// syscalls and pipes, internal/rawfile): a wait that does would be
// stretched by up to the slack. Whatever hako starts gets the original
// value back: the plan sets it before executing the container's program,
// and hooks run from a thread that restored it (WithTimerSlack).
func init() {
	cur, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		return
	}
	original = int64(cur)
	if cur >= slackNs {
		return
	}
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, slackNs, 0, 0, 0)
	// The runtime's other threads, listed in /proc/self/task, through
	// /proc/<tid>/timerslack_ns (a thread's own file is not in task/;
	// writing another thread's needs CAP_SYS_NICE: without it they keep
	// theirs).
	dir, err := unix.Open("/proc/self/task", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(dir)
	self := unix.Gettid()
	var buf [2048]byte
	for {
		n, err := unix.Getdents(dir, buf[:])
		if n <= 0 || err != nil {
			return
		}
		_, _, names := unix.ParseDirent(buf[:n], -1, nil)
		for _, name := range names {
			tid, err := strconv.Atoi(name)
			if err != nil || tid == self {
				continue
			}
			fd, err := unix.Open("/proc/"+name+"/timerslack_ns", unix.O_WRONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return
			}
			_, _ = unix.Write(fd, []byte(strconv.Itoa(slackNs)))
			unix.Close(fd)
		}
	}
}

// TimerSlack is the timer slack (ns) hako was started with, before init
// raised it for the Go runtime's threads; -1 if unknown. Processes hako
// starts for others get this value back.
func TimerSlack() int64 { return original }

// WithTimerSlack runs fn (which starts a process) on an OS thread whose
// timer slack is hako's original one, so the process inherits that value
// rather than the 4 ms hako's own threads run with. The thread is not
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
