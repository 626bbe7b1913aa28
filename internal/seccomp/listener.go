package seccomp

import (
	"encoding/json"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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
