package trace

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Event is one finished step.
type Event struct {
	Who      string        `json:"who"`           // "hako" or "init"
	Step     string        `json:"step"`          // e.g. "mount"
	Operands string        `json:"operands"`      // e.g. "proc on /proc (nosuid,noexec,nodev)"
	Start    time.Time     `json:"start"`         // when the step began
	At       time.Duration `json:"at"`            // since the log started
	Dur      time.Duration `json:"dur"`           // how long the step took
	Err      string        `json:"err,omitempty"` // the failure, if any
}

// Sink receives finished steps.
type Sink func(Event)

// Log runs steps. A nil *Log is valid: steps run untraced but errors are
// still wrapped, so callers never need to check.
type Log struct {
	who   string
	start time.Time
	sink  Sink
}

// New returns a Log whose events go to sink (nil: no tracing).
func New(who string, sink Sink) *Log {
	return &Log{who: who, start: time.Now(), sink: sink}
}

// Enabled reports whether steps are being recorded; callers use it to skip
// building costly operand strings.
func (l *Log) Enabled() bool { return l != nil && l.sink != nil }

// Step runs fn as the named step. On failure it returns a *StepError.
func (l *Log) Step(step, operands string, fn func() error) error {
	var t0 time.Time
	if l.Enabled() {
		t0 = time.Now()
	}
	err := fn()
	if err != nil {
		var se *StepError
		if !errors.As(err, &se) {
			err = &StepError{Step: step, Operands: operands, Err: err, Hint: hintFor(step, operands, err)}
		}
	}
	if l.Enabled() {
		ev := Event{Who: l.who, Step: step, Operands: operands, Start: t0, At: t0.Sub(l.start), Dur: time.Since(t0)}
		if err != nil {
			ev.Err = err.Error()
		}
		l.sink(ev)
	}
	return err
}

// Note records an instant event (no work of its own), e.g. a pid learned.
func (l *Log) Note(step, operands string) {
	if l.Enabled() {
		now := time.Now()
		l.sink(Event{Who: l.who, Step: step, Operands: operands, Start: now, At: now.Sub(l.start)})
	}
}

// Forward passes on an event recorded by another process (init), timed
// against this log's start so both processes share one clock in the output.
func (l *Log) Forward(ev Event) {
	if l.Enabled() {
		ev.At = ev.Start.Sub(l.start)
		l.sink(ev)
	}
}

// Writer returns a Sink that prints events as aligned text lines:
//
//	[  1.204ms +0.031ms] init  mount      proc on /proc (nosuid,noexec,nodev)
func Writer(w io.Writer) Sink {
	var mu sync.Mutex
	return func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		status := ""
		if ev.Err != "" {
			status = "  FAILED: " + ev.Err
		}
		fmt.Fprintf(w, "[%9.3fms +%7.3fms] %-4s %-16s %s%s\n",
			ms(ev.At), ms(ev.Dur), ev.Who, ev.Step, ev.Operands, status)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// StepError is a failed step: what was being done, to what, and why it failed.
type StepError struct {
	Step     string `json:"step"`
	Operands string `json:"operands,omitempty"`
	Err      error  `json:"-"`
	Hint     string `json:"hint,omitempty"`
}

func (e *StepError) Error() string {
	s := e.Step
	if e.Operands != "" {
		s += " " + e.Operands
	}
	s += ": " + errText(e.Err)
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s
}

func (e *StepError) Unwrap() error { return e.Err }

// errText prints an errno by its name and text ("EINVAL: invalid argument"),
// which is what people search for.
func errText(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) && errors.Is(err, errno) && err.Error() == errno.Error() {
		if name := unix.ErrnoName(errno); name != "" {
			return name + ": " + errno.Error()
		}
	}
	if errors.As(err, &errno) {
		if name := unix.ErrnoName(errno); name != "" {
			return err.Error() + " (" + name + ")"
		}
	}
	return err.Error()
}

// Failed is the StepError Step makes when a step fails, for a failure
// found without running the step through Step (the plan compiler's look at
// a bind mount's source, before init ever mounts it): same text, same hint.
func Failed(step, operands string, err error) *StepError {
	return &StepError{Step: step, Operands: operands, Err: err, Hint: hintFor(step, operands, err)}
}

// Remote rebuilds a StepError that crossed the sync socket from init.
//
// The plan executor (C, see internal/initplan) sends only the errno for
// plain syscall failures: the text and the hint are made here, as Step
// makes them in hako.
func Remote(step, operands, msg, hint string, errno int) *StepError {
	if msg == "" && errno != 0 {
		msg = unix.Errno(errno).Error()
	}
	var err error = errors.New(msg)
	if errno != 0 {
		err = &remoteErrno{msg: msg, errno: unix.Errno(errno)}
	}
	if hint == "" && errno != 0 {
		hint = hintFor(step, operands, unix.Errno(errno))
	}
	return &StepError{Step: step, Operands: operands, Err: err, Hint: hint}
}

type remoteErrno struct {
	msg   string
	errno unix.Errno
}

func (r *remoteErrno) Error() string { return r.msg }
func (r *remoteErrno) Unwrap() error { return r.errno }
