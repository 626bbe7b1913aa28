package userns

import (
	"fmt"
	"os"
	"runtime"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// NSFile returns a new user namespace with the given ID maps, as the open
// /proc/PID/ns/user of a helper that never runs (runc's way, for the user
// namespace an idmapped mount takes): the helper is cloned into the new
// namespace, its maps written by hako (so only root can ask for any
// maps), stopped at its execve by PTRACE_TRACEME before a single
// instruction of the program, then killed and reaped once the file is
// open. The namespace lives as long as the file.
func NSFile(uids, gids []specs.LinuxIDMapping) (*os.File, error) {
	// The tracer of the helper is this thread (ptrace(2)); keep it until
	// the helper is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	attr := &syscall.ProcAttr{Sys: &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER,
		UidMappings: sysMaps(uids), GidMappings: sysMaps(gids), Ptrace: true}}
	pid, err := syscall.ForkExec("/proc/self/exe", []string{"hako-userns"}, attr)
	if err != nil {
		return nil, fmt.Errorf("helper process in a new user namespace: %w", err)
	}
	defer func() {
		_ = unix.Kill(pid, unix.SIGKILL)
		for {
			if _, err := unix.Wait4(pid, nil, 0, nil); err != unix.EINTR {
				break
			}
		}
	}()
	return os.Open(fmt.Sprintf("/proc/%d/ns/user", pid))
}

func sysMaps(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(m))
	for i, e := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)}
	}
	return out
}
