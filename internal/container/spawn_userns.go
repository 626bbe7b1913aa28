package container

import (
	"os"
	"os/exec"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/namespaces"
	"hako/internal/nsenter"
)

// joinsUserNS reports whether the spec gives the user namespace by path
// (Kubernetes' user namespaces through containerd, podman pods). A Go
// process cannot setns into a user namespace, so init is started through
// hako-init's nsenter, which joins every path namespace (user first),
// becomes root there, and only then unshares the new ones, so that they
// are owned by the joined user namespace.
func (cr *creation) joinsUserNS() bool {
	return namespaces.Joins(cr.spec.Linux.Namespaces, specs.UserNamespace)
}

// nsenterEnv is hako-init's environment for init: the namespaces to
// join, the new ones to unshare after (cgroup and time stay init's job),
// and the fd of the pipe it reports init's pid on.
func (cr *creation) nsenterEnv(pipeFd int) []string {
	paths := map[string]string{}
	for _, ns := range cr.spec.Linux.Namespaces {
		if ns.Path != "" {
			paths[namespaces.ProcName(ns.Type)] = ns.Path
		}
	}
	return nsenter.EnvUnshare(paths, cloneFlags(cr.spec.Linux.Namespaces), pipeFd)
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
