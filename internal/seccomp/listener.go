package seccomp

import (
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/unixsock"
)

// ListenerState is the message sent with the listener fd, as runc sends it:
// the container's state wrapped in a specs.ContainerProcessState whose Fds
// name the one fd "seccompFd"; metadata is linux.seccomp.listenerMetadata.
func ListenerState(st specs.State, pid int, metadata string) ([]byte, error) {
	return json.Marshal(specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      pid,
		Metadata: metadata,
		State:    st,
	})
}

// SendListener connects to the agent's unix socket at path
// (linux.seccomp.listenerPath) and sends state with fd attached
// (SCM_RIGHTS) in one message. The caller keeps fd and closes it.
func SendListener(path string, fd int, state []byte) error {
	conn, err := unixsock.Dial(path)
	if err != nil {
		return fmt.Errorf("seccomp listener %s: %w", path, err)
	}
	defer conn.Close()
	n, err := unix.SendmsgN(int(conn.Fd()), state, unix.UnixRights(fd), nil, 0)
	if err != nil {
		return fmt.Errorf("seccomp listener %s: send fd: %w", path, err)
	}
	if n != len(state) {
		return fmt.Errorf("seccomp listener %s: sent %d of %d bytes", path, n, len(state))
	}
	return nil
}
