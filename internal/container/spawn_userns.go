package container

import (
	"os"
	"os/exec"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/nsenter"
)

// procNames are the /proc/PID/ns names of the spec's namespace types.
var procNames = map[specs.LinuxNamespaceType]string{
	specs.UserNamespace: "user", specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts",
	specs.NetworkNamespace: "net", specs.PIDNamespace: "pid", specs.CgroupNamespace: "cgroup",
	specs.TimeNamespace: "time", specs.MountNamespace: "mnt",
}

// joinsUserNS reports whether the spec gives the user namespace by path
// (Kubernetes' user namespaces through containerd, podman pods). A Go
// process cannot setns into a user namespace, so init is started through
// hako-init's nsenter, which joins every path namespace (user first),
// becomes root there, and only then unshares the new ones, so that they
// are owned by the joined user namespace.
func (cr *creation) joinsUserNS() bool {
	for _, ns := range cr.spec.Linux.Namespaces {
		if ns.Type == specs.UserNamespace && ns.Path != "" {
			return true
		}
	}
	return false
}

// nsenterEnv is hako-init's environment for init: the namespaces to
// join, the new ones to unshare after (cgroup and time stay init's job),
// and the fd of the pipe it reports init's pid on.
func (cr *creation) nsenterEnv(pipeFd int) []string {
	paths := map[string]string{}
	var unshare uintptr
	for _, ns := range cr.spec.Linux.Namespaces {
		if ns.Path != "" {
			paths[procNames[ns.Type]] = ns.Path
		} else {
			unshare |= cloneFlags[ns.Type]
		}
	}
	return nsenter.EnvUnshare(paths, unshare, pipeFd)
}

// startViaNsenter starts init through hako-init and returns the
// process that runs init (a grandchild when a PID namespace is involved; we
// are its child subreaper, so it is still ours to wait for).
func (cr *creation) startViaNsenter(cmd *exec.Cmd, report *os.File) (*Proc, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, err
	}
	child, err := forkExec(cmd)
	if err != nil {
		return nil, err
	}
	// The intermediate, if hako-init forked, is reaped by
	// readNsenterPid.
	pid, err := readNsenterPid(report, child)
	if err != nil {
		return nil, err
	}
	return &Proc{Pid: pid}, nil
}
