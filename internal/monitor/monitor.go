package monitor

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"hako/internal/nsenter"
	"hako/internal/trace"
)

// image is hako-mon, built from c/ by `make` (musl, static, ~55 KB).
//
//go:embed c/hako-mon
var image []byte

// Opts say what the monitor watches and runs.
type Opts struct {
	ExitFile, LogFile, PidFile string
	Stdin                      bool     // hold the container's stdin open (-i)
	TTY                        bool     // Create's fd 4 is the console socket; the monitor holds the pty master (-t)
	Create                     []string // path, argv0, args: makes and starts the container, reports on fd 3
	OnExit                     []string // path, argv0, args: run when init has exited
	Stderr                     *os.File // the monitor's own errors (nil: none)
}

// Start starts the monitor, detached in a session of its own, and waits
// until Create has reported: nil when the container runs (its init's pid
// is in PidFile), else Create's error. What Create wrote on the report
// channel before its answer (its --trace lines) is copied to trace. The
// monitor lives on after hk.
func Start(log *trace.Log, o Opts, traceOut io.Writer) error {
	f, err := nsenter.Sealed("hako-mon", image)
	if err != nil {
		return err
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	mode := "-"
	if o.Stdin {
		mode += "i"
	}
	if o.TTY {
		mode += "t"
	}
	args := append([]string{"hako-mon", o.ExitFile, o.LogFile, o.PidFile, mode, "--"}, o.Create...)
	args = append(append(args, "--"), o.OnExit...)
	cmd := &exec.Cmd{Path: "/proc/self/fd/4", Args: args, ExtraFiles: []*os.File{w, f}, Stderr: o.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true}}
	err = log.Step("start monitor", strings.Join(args, " "), cmd.Start)
	w.Close()
	if err != nil {
		return fmt.Errorf("start hako-mon: %w", err)
	}
	msg, _ := io.ReadAll(r)
	if i := bytes.LastIndexByte(msg, 0); i >= 0 {
		if traceOut != nil {
			traceOut.Write(msg[:i])
		}
		msg = msg[i+1:]
	}
	if err := ParseReport(msg); err != nil {
		cmd.Wait()
		return err
	}
	cmd.Process.Release()
	return nil
}

// ReportError is Create's failure, with the exit code Docker gives it
// (125, or 126/127 when the program cannot be run / is not found).
type ReportError struct {
	Code int
	Msg  string
}

func (e *ReportError) Error() string { return e.Msg }

// Report writes Create's answer on fd 3: a NUL (what came before it,
// if anything, is Create's trace), then "ok" or "err CODE MESSAGE".
func Report(w io.Writer, err error, code int) {
	if err == nil {
		io.WriteString(w, "\x00ok\n")
		return
	}
	fmt.Fprintf(w, "\x00err %d %s", code, err)
}

// ParseReport reads what Report wrote (nothing at all: Create died).
func ParseReport(b []byte) error {
	if i := bytes.LastIndexByte(b, 0); i >= 0 {
		b = b[i+1:]
	}
	s := string(b)
	if strings.HasPrefix(s, "ok") {
		return nil
	}
	if rest, ok := strings.CutPrefix(s, "err "); ok {
		code, msg, _ := strings.Cut(rest, " ")
		n, _ := strconv.Atoi(code)
		return &ReportError{Code: n, Msg: msg}
	}
	if s == "" {
		s = "the container's creator died without a word"
	}
	return &ReportError{Code: 125, Msg: strings.TrimSpace(s)}
}
