package syncproto

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Environment variables naming the fds the parent passes to init.
const (
	EnvSync    = "_HAKO_SYNC_FD"    // the sync socket
	EnvFifo    = "_HAKO_FIFO_FD"    // O_PATH fd of exec.fifo
	EnvConsole = "_HAKO_CONSOLE_FD" // connected console socket (terminal: true)
	// EnvSeccompListener: a socket connected to linux.seccomp.listenerPath.
	EnvSeccompListener = "_HAKO_SECCOMP_FD"
	// EnvWaitMap: the ID maps are written by newuidmap after clone. init
	// started as an unmapped uid, which execve stripped of capabilities;
	// once the maps exist it is uid 0 of the namespace, and executing
	// itself again gives it the namespace's full capability set.
	EnvWaitMap = "_HAKO_WAIT_MAP"
)

// InitConfig is message 1 (config) for the Go init: the spec and what
// the runtime decided, everything init needs to know. The plan executor
// receives a plan (internal/initplan) in its place.
type InitConfig struct {
	Spec    *specs.Spec `json:"spec"`
	ID      string      `json:"id"`
	Bundle  string      `json:"bundle"`
	Rootfs  string      `json:"rootfs"`
	Pid     int         `json:"pid"` // init's pid as the host sees it, for hook state
	NoPivot bool        `json:"noPivot,omitempty"`
	// Exec is set for `hako exec`: the namespaces are joined, not built.
	Exec bool `json:"exec,omitempty"`
	// PreserveFDs is how many fds from 3 on the program inherits.
	PreserveFDs int  `json:"preserveFds,omitempty"`
	Trace       bool `json:"trace,omitempty"`
	// TimerSlack: hako's original timer slack (ns), for the program and
	// the hooks init runs (hako's threads run with 4 ms); -1: unknown.
	TimerSlack int64 `json:"timerSlack"`
	Hooks      bool  `json:"hooks,omitempty"` // parent runs prestart/createRuntime: pause for it
	// JoinByPid: ask the parent to move init into its cgroup (sync
	// message "cgroup") before building the container.
	JoinByPid bool `json:"joinByPid,omitempty"`
	UserNS    bool `json:"userns,omitempty"`
	NetNS     bool `json:"netns,omitempty"`
	CgroupNS  bool `json:"cgroupns,omitempty"`
	Rootless  bool `json:"rootless,omitempty"`
}

// HookState is the runtime-spec state hooks read on stdin.
func (c *InitConfig) HookState(status string) specs.State {
	return specs.State{Version: specs.Version, ID: c.ID, Status: specs.ContainerState(status),
		Pid: c.Pid, Bundle: c.Bundle, Annotations: c.Spec.Annotations}
}
