package spec

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Real-time signal bounds as user space sees them: glibc reserves 32 and 33
// for NPTL, so SIGRTMIN is 34 (runc and moby/sys/signal use the same).
const (
	sigRTMin = 34
	sigRTMax = 64
)

var signals = map[string]unix.Signal{
	"ABRT": unix.SIGABRT, "ALRM": unix.SIGALRM, "BUS": unix.SIGBUS,
	"CHLD": unix.SIGCHLD, "CLD": unix.SIGCLD, "CONT": unix.SIGCONT,
	"FPE": unix.SIGFPE, "HUP": unix.SIGHUP, "ILL": unix.SIGILL,
	"INT": unix.SIGINT, "IO": unix.SIGIO, "IOT": unix.SIGIOT,
	"KILL": unix.SIGKILL, "PIPE": unix.SIGPIPE, "POLL": unix.SIGPOLL,
	"PROF": unix.SIGPROF, "PWR": unix.SIGPWR, "QUIT": unix.SIGQUIT,
	"SEGV": unix.SIGSEGV, "STKFLT": unix.SIGSTKFLT, "STOP": unix.SIGSTOP,
	"SYS": unix.SIGSYS, "TERM": unix.SIGTERM, "TRAP": unix.SIGTRAP,
	"TSTP": unix.SIGTSTP, "TTIN": unix.SIGTTIN, "TTOU": unix.SIGTTOU,
	"URG": unix.SIGURG, "USR1": unix.SIGUSR1, "USR2": unix.SIGUSR2,
	"VTALRM": unix.SIGVTALRM, "WINCH": unix.SIGWINCH, "XCPU": unix.SIGXCPU,
	"XFSZ": unix.SIGXFSZ,
}

// ParseSignal accepts a signal number or a name with or without "SIG", in
// any case, including SIGRTMIN+n and SIGRTMAX-n (`hako kill` takes what
// kill(1) and runc take).
func ParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > sigRTMax {
			return 0, fmt.Errorf("signal %d out of range 1-%d", n, sigRTMax)
		}
		return unix.Signal(n), nil
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if sig, ok := signals[name]; ok {
		return sig, nil
	}
	if sig, ok := rtSignal(name); ok {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

// rtSignal parses RTMIN, RTMIN+n, RTMAX and RTMAX-n.
func rtSignal(name string) (unix.Signal, bool) {
	base, sign, rest := 0, 0, ""
	switch {
	case strings.HasPrefix(name, "RTMIN"):
		base, sign, rest = sigRTMin, 1, name[len("RTMIN"):]
	case strings.HasPrefix(name, "RTMAX"):
		base, sign, rest = sigRTMax, -1, name[len("RTMAX"):]
	default:
		return 0, false
	}
	if rest == "" {
		return unix.Signal(base), true
	}
	op := byte('+')
	if sign < 0 {
		op = '-'
	}
	if rest[0] != op || len(rest) < 2 || rest[1] < '0' || rest[1] > '9' {
		return 0, false
	}
	n, err := strconv.Atoi(rest[1:])
	if err != nil || n > sigRTMax-sigRTMin {
		return 0, false
	}
	return unix.Signal(base + sign*n), true
}
