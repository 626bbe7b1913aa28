//go:build amd64

package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/unixsock"
)

// seccompNotif and seccompNotifResp are struct seccomp_notif and
// seccomp_notif_resp (linux/seccomp.h); x/sys has the ioctls, not the types.
type seccompNotif struct {
	id    uint64
	pid   uint32
	flags uint32
	nr    int32
	arch  uint32
	ip    uint64
	args  [6]uint64
}

type seccompNotifResp struct {
	id    uint64
	val   int64
	error int32
	flags uint32
}

const agentEnv = "HAKO_SECCOMP_TEST_AGENT"

// TestKernelNotify plays the agent at listenerPath: the child loads a
// filter that notifies on getppid, sends the listener fd with SendListener,
// and calls getppid; the agent answers 4242 through the listener.
func TestKernelNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd := child(t, "notify", agentEnv+"="+sock)
	out := make(chan error, 1)
	go func() {
		b, err := cmd.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, b)
		}
		out <- err
	}()
	ln.SetDeadline(time.Now().Add(10 * time.Second))
	if err := agent(ln); err != nil {
		t.Error(err)
	}
	if err := <-out; err != nil {
		t.Fatalf("child: %v", err)
	}
}

// agent takes one listener from ln and answers one notification.
func agent(ln *net.UnixListener) error {
	conn, err := ln.AcceptUnix()
	if err != nil {
		return err
	}
	defer conn.Close()
	buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return err
	}
	var st specs.ContainerProcessState
	if err := json.Unmarshal(buf[:n], &st); err != nil {
		return err
	}
	if len(st.Fds) != 1 || st.Fds[0] != specs.SeccompFdName || st.Metadata != "meta" || st.State.ID != "c1" {
		return fmt.Errorf("state %+v", st)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return fmt.Errorf("control messages %v: %v", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return fmt.Errorf("fds %v: %v", fds, err)
	}
	defer unix.Close(fds[0])
	return answer(fds[0], unix.SYS_GETPPID, 4242)
}

// answer waits for one notification of syscall nr and makes it return val.
func answer(fd int, nr int32, val int64) error {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(pfd, 10000); n != 1 {
		return fmt.Errorf("poll listener: %d, %v", n, err)
	}
	var req seccompNotif
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&req))); e != 0 {
		return fmt.Errorf("SECCOMP_IOCTL_NOTIF_RECV: %w", e)
	}
	if req.nr != nr || req.arch != unix.AUDIT_ARCH_X86_64 {
		return fmt.Errorf("notified of syscall %d arch %#x, want %d", req.nr, req.arch, nr)
	}
	resp := seccompNotifResp{id: req.id, val: val}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp))); e != 0 {
		return fmt.Errorf("SECCOMP_IOCTL_NOTIF_SEND: %w", e)
	}
	return nil
}

func childNotify() error {
	sock := os.Getenv(agentEnv)
	// Every flag, so that the kernel takes them all.
	flags := []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_TSYNC", specs.LinuxSeccompFlagLog,
		specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv}
	fd, err := loadNNP(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: sock, ListenerMetadata: "meta",
		Flags: flags, Syscalls: []specs.LinuxSyscall{sc(specs.ActNotify, "getppid")}})
	if err != nil {
		return err
	}
	if fd < 0 {
		return errors.New("no listener fd")
	}
	state, err := ListenerState(specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreating, Pid: os.Getpid()}, os.Getpid(), "meta")
	if err != nil {
		return err
	}
	// As hako-init sends it (plan.c): the state with the fd attached, in one
	// message on the connected listener socket.
	conn, err := unixsock.Dial(sock)
	if err != nil {
		return err
	}
	err = unix.Sendmsg(int(conn.Fd()), state, unix.UnixRights(fd), nil, 0)
	conn.Close()
	if err != nil {
		return err
	}
	unix.Close(fd)
	if r, _, e := unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0); r != 4242 || e != 0 {
		return fmt.Errorf("getppid: %d, %v; want 4242 from the agent", r, e)
	}
	return nil
}
