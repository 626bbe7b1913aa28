package container

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/namespaces"
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

// nsenterNamespaces are what hako-init's nsenter does for init: the
// namespaces to join (by /proc name) and the new ones to unshare after
// (cgroup and time stay init's job).
func (cr *creation) nsenterNamespaces() (join map[string]string, unshare uintptr) {
	join = map[string]string{}
	for _, ns := range cr.spec.Linux.Namespaces {
		if ns.Path != "" {
			join[namespaces.ProcName(ns.Type)] = ns.Path
		}
	}
	return join, cloneFlags(cr.spec.Linux.Namespaces)
}

// startViaNsenter starts init through hako-init and returns the
// process that runs init (a grandchild when a PID namespace is involved; we
// are its child subreaper, so it is still ours to wait for).
func (cr *creation) startViaNsenter(ic *initCmd) (*Proc, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, err
	}
	child, err := forkExec(ic.cmd)
	// Our write end closed, a hako-init that dies without a word gives EOF.
	ic.release()
	if err != nil {
		return nil, err
	}
	// The intermediate, if hako-init forked, is reaped by
	// readNsenterPid.
	pid, err := readNsenterPid(ic.report, child)
	if err != nil {
		return nil, err
	}
	return &Proc{Pid: pid}, nil
}
