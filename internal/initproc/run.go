package initproc

import (
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/caps"
	"hako/internal/hooks"
	"hako/internal/namespaces"
	"hako/internal/rootfs"
	"hako/internal/syncproto"
)

// run performs the container set-up in the order the runtime-spec and the
// kernel require, then execs. It returns only on failure.
func (p *proc) run() error {
	s := p.cfg.Spec
	if s.Process == nil {
		return errNoProcess
	}
	capset, err := p.capabilities()
	if err != nil {
		return err
	}
	if err := p.compileSeccomp(); err != nil {
		return err
	}
	if p.cfg.Exec {
		return p.runExec(capset)
	}
	// umask 0 while creating device nodes and files, so modes are exact.
	unix.Umask(0)
	if err := p.waitFifoAsync(); err != nil {
		return err
	}
	if err := p.early(); err != nil {
		return err
	}
	console, err := p.setupRootfs()
	if err != nil {
		return err
	}
	argv0, err := p.becomeProcess(capset, console)
	if err != nil {
		return err
	}
	if err := p.waitStart(); err != nil {
		return err
	}
	st := p.cfg.HookState("created")
	if err := hooks.RunKind(s, "startContainer", st, p.log); err != nil {
		return err
	}
	return p.exec(argv0)
}

func (p *proc) capabilities() (*caps.Set, error) {
	capset, err := caps.Parse(p.cfg.Spec.Process.Capabilities)
	if err != nil {
		return nil, err
	}
	bounding, err := capset.Bounding()
	if err != nil {
		return nil, err
	}
	if dropped := capset.Restrict(bounding); len(dropped) > 0 {
		p.warn("not granted, outside hako's own bounding set on this host: %s", strings.Join(dropped, ","))
	}
	return capset, nil
}

// runExec is `hako exec`'s init: hako-init's nsenter has already joined
// the container's namespaces (and its root), and the parent its cgroup, so
// what is left is the process itself. No fifo: it execs once ready.
func (p *proc) runExec(capset *caps.Set) error {
	console, err := p.setupConsole(openContainerPtmx, nil)
	if err != nil {
		return err
	}
	argv0, err := p.becomeProcess(capset, console)
	if err != nil {
		return err
	}
	return p.exec(argv0)
}

// becomeProcess turns init into the configured process (see
// finishProcess), finds the program, and reports ready: from here on
// nothing but the start signal, startContainer hooks and execve remain.
func (p *proc) becomeProcess(capset *caps.Set, console *os.File) (string, error) {
	if err := p.finishProcess(capset, console); err != nil {
		return "", err
	}
	argv0, err := p.lookPath()
	if err != nil {
		return "", err
	}
	if err := p.lsmExec(); err != nil {
		return "", err
	}
	err = p.sync.Send(syncproto.Msg{Type: syncproto.Ready})
	p.ready = err == nil
	return argv0, err
}

// joinCgroup has the parent move init into the container's cgroup (see
// syncproto's table and container.joinByPid for why now).
func (p *proc) joinCgroup() error {
	if !p.cfg.JoinByPid {
		return nil
	}
	if err := p.sync.Send(syncproto.Msg{Type: syncproto.Cgroup}); err != nil {
		return err
	}
	_, err := p.sync.Expect(syncproto.CgroupDone, nil)
	return err
}

// early does what must happen before the filesystem changes: the time
// namespace (its offsets can only be set before any process is in it),
// oom_score_adj, hostname and sysctls, all through the host's
// /proc, which the container's rootfs cannot redirect.
func (p *proc) early() error {
	s := p.cfg.Spec
	if err := p.timeNamespace(); err != nil {
		return err
	}
	if err := p.joinCgroup(); err != nil {
		return err
	}
	// Init is in its cgroup now, so the new cgroup namespace is rooted at
	// the container's own cgroup.
	if p.hasNewNS(specs.CgroupNamespace) {
		if err := p.log.Step("unshare", "CLONE_NEWCGROUP", func() error { return unix.Unshare(unix.CLONE_NEWCGROUP) }); err != nil {
			return err
		}
	}
	if s.Process.OOMScoreAdj != nil {
		v := fmt.Sprint(*s.Process.OOMScoreAdj)
		if err := p.log.Step("write", "/proc/self/oom_score_adj = "+v, func() error {
			return os.WriteFile("/proc/self/oom_score_adj", []byte(v), 0)
		}); err != nil {
			return err
		}
	}
	if err := p.hostname(); err != nil {
		return err
	}
	if err := p.loopbackUp(); err != nil {
		return err
	}
	// Opened now, through the host's /proc, written last (lsmExec).
	if err := p.openExecAttrs(); err != nil {
		return err
	}
	return p.sysctls()
}

func (p *proc) hostname() error {
	s := p.cfg.Spec
	if s.Hostname != "" {
		if err := p.log.Step("sethostname", s.Hostname, func() error {
			return unix.Sethostname([]byte(s.Hostname))
		}); err != nil {
			return err
		}
	}
	if s.Domainname != "" {
		return p.log.Step("setdomainname", s.Domainname, func() error {
			return unix.Setdomainname([]byte(s.Domainname))
		})
	}
	return nil
}

// sysctls writes linux.sysctl. /proc/sys/net, kernel.hostname and the IPC
// keys show the namespaces of the process that opens them, so writing through
// the host's /proc from inside the new namespaces sets the container's values.
func (p *proc) sysctls() error {
	for k, v := range p.cfg.Spec.Linux.Sysctl {
		path := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if err := p.log.Step("sysctl", k+" = "+v, func() error {
			f, err := os.OpenFile(path, os.O_WRONLY|unix.O_NOFOLLOW, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteString(v)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// timeNamespace enters a new time namespace for the user program:
// unshare(CLONE_NEWTIME) only moves children (and, since Linux 5.16's exec
// change, the next execve) into it, after the offsets are written.
func (p *proc) timeNamespace() error {
	if !p.hasNewNS(specs.TimeNamespace) {
		return nil
	}
	if err := p.log.Step("unshare", "CLONE_NEWTIME", func() error { return unix.Unshare(unix.CLONE_NEWTIME) }); err != nil {
		return err
	}
	var b strings.Builder
	for clock, off := range p.cfg.Spec.Linux.TimeOffsets {
		fmt.Fprintf(&b, "%s %d %d\n", clock, off.Secs, off.Nanosecs)
	}
	if b.Len() == 0 {
		return nil
	}
	return p.log.Step("write", "/proc/self/timens_offsets = "+strings.TrimSpace(b.String()), func() error {
		return os.WriteFile("/proc/self/timens_offsets", []byte(b.String()), 0)
	})
}

func (p *proc) hasNewNS(t specs.LinuxNamespaceType) bool {
	return namespaces.IsNew(p.cfg.Spec.Linux.Namespaces, t)
}

// setupRootfs builds the filesystem, runs the hooks that belong between
// mounting and pivot_root, and pivots. It returns the console's terminal side.
func (p *proc) setupRootfs() (*os.File, error) {
	s := p.cfg.Spec
	if !p.hasNS(specs.MountNamespace) {
		return nil, p.chrootOnly()
	}
	b, err := rootfs.New(rootfs.Config{Rootfs: p.cfg.Rootfs, Spec: s, UserNS: p.cfg.UserNS,
		NetNS: p.cfg.NetNS, CgroupNS: p.cfg.CgroupNS, NoPivot: p.cfg.NoPivot, Rootless: p.cfg.Rootless, Bundle: p.cfg.Bundle}, p.log)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	if err := b.Prepare(); err != nil {
		return nil, err
	}
	console, err := p.setupConsole(b.OpenPtmx, b.BindConsole)
	if err != nil {
		return nil, err
	}
	if err := p.runtimeHooks(); err != nil {
		return nil, err
	}
	st := p.cfg.HookState("created")
	if err := hooks.RunKind(s, "createContainer", st, p.log); err != nil {
		return nil, err
	}
	if err := b.Pivot(); err != nil {
		return nil, err
	}
	if err := b.Finish(); err != nil {
		return nil, err
	}
	return console, nil
}

// chrootOnly is the set-up without a mount namespace: the container shares
// the host's mounts, so hako mounts nothing (that would change the host) and
// only chroots into the rootfs, as runc does.
func (p *proc) chrootOnly() error {
	s := p.cfg.Spec
	if err := p.runtimeHooks(); err != nil {
		return err
	}
	if err := hooks.RunKind(s, "createContainer", p.cfg.HookState("created"), p.log); err != nil {
		return err
	}
	if n := len(s.Mounts); n > 0 {
		p.warn("no mount namespace: the config's %d mounts are not made (they would change the host's mounts)", n)
	}
	return p.log.Step("chroot", p.cfg.Rootfs+" (no mount namespace)", func() error {
		if err := unix.Chroot(p.cfg.Rootfs); err != nil {
			return err
		}
		return unix.Chdir("/")
	})
}

func (p *proc) hasNS(t specs.LinuxNamespaceType) bool {
	return namespaces.Contains(p.cfg.Spec.Linux.Namespaces, t)
}

// runtimeHooks hands control to the parent for prestart and createRuntime
// hooks, which run in the runtime's namespaces while init waits.
func (p *proc) runtimeHooks() error {
	if !p.cfg.Hooks {
		return nil
	}
	if err := p.sync.Send(syncproto.Msg{Type: syncproto.Hooks}); err != nil {
		return err
	}
	_, err := p.sync.Expect(syncproto.HooksDone, nil)
	return err
}
