package container

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// Proc is a process hako started and waits for: init. Not *os.Process: the
// os package probes pidfd support once per process by forking a throwaway
// child (~0.2 ms of every `hako run`), and init needs none of it.
type Proc struct {
	Pid int
}

// Kill sends SIGKILL.
func (p *Proc) Kill() error { return unix.Kill(p.Pid, unix.SIGKILL) }

// Wait reaps the process and returns how it ended.
func (p *Proc) Wait() (syscall.WaitStatus, error) {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(p.Pid, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return ws, fmt.Errorf("wait for pid %d: %w", p.Pid, err)
		}
		return ws, nil
	}
}

// StatusString says how a process ended, as os.ProcessState does.
func StatusString(ws syscall.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("exit status %d", ws.ExitStatus())
	case ws.Signaled():
		s := "signal: " + ws.Signal().String()
		if ws.CoreDump() {
			s += " (core dumped)"
		}
		return s
	}
	return fmt.Sprintf("wait status %#x", uint32(ws))
}
