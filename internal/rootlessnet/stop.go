package rootlessnet

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"hako/internal/trace"
)

// Stop ends container id's helper, if one runs, reaps it when it is this
// process's child (else its parent or the nearest subreaper does: hako-mon
// for a detached container), and removes its files. No helper is no
// error: every command may call it.
func Stop(log *trace.Log, dir, id string) error {
	base := files(dir, id)
	pid, fwd := 0, 0
	if r, err := Load(dir, id); err == nil {
		pid, fwd = r.Pid, r.FwdPid
	}
	if b, err := os.ReadFile(base + ".pid"); err == nil && pid == 0 {
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b))) // pasta's, before the record
	}
	if b, err := os.ReadFile(base + ".fwd.pid"); err == nil && fwd == 0 {
		fwd, _ = strconv.Atoi(strings.TrimSpace(string(b))) // the forwarder's, before the record
	}
	for _, h := range []struct {
		what string
		pid  int
	}{{"rootless network helper", pid}, {"port forwarder", fwd}} {
		if h.pid > 0 && isHelper(h.pid, base) {
			err := log.Step("kill", h.what+" pid "+strconv.Itoa(h.pid), func() error { return end(h.pid) })
			if err != nil {
				return err
			}
		}
	}
	var errs []error
	for _, ext := range []string{".json", ".pid", ".log", ".sock", ".json.tmp", ".fwd.pid", ".fwd.log"} {
		if err := os.Remove(base + ext); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// isHelper: pid is still the helper of base, by its command line (which
// names base's files), so a recycled pid is never signalled.
func isHelper(pid int, base string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && bytes.Contains(b, []byte(base))
}

// end sends SIGTERM, then SIGKILL if the helper is still there after two
// seconds, and waits until it is gone (reaped here when it is a child).
func end(pid int) error {
	for _, sig := range []unix.Signal{unix.SIGTERM, unix.SIGKILL} {
		if err := unix.Kill(pid, sig); errors.Is(err, unix.ESRCH) {
			return nil
		} else if err != nil {
			return err
		}
		for i := 0; i < 200; i++ {
			if gone(pid) {
				return nil
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return errors.New("still running 4 s after SIGKILL")
}

// gone reaps pid if it is a child; else it is gone when it no longer
// exists or is a zombie waiting for another parent. (Not by its command
// line: an exiting process's reads empty before it is a zombie.)
func gone(pid int) bool {
	var ws unix.WaitStatus
	if p, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil); p == pid {
		return true
	} else if err == nil {
		return false // our child, still running
	}
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(st, ')')
	return i > 0 && len(st) > i+2 && (st[i+2] == 'Z' || st[i+2] == 'X')
}
