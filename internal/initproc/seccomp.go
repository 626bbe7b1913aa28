package initproc

import (
	"fmt"

	"golang.org/x/sys/unix"

	"hako/internal/seccomp"
	"hako/internal/syncproto"
)

// compileSeccomp turns linux.seccomp into a BPF program once, early, so a
// bad profile fails create before anything else is built.
func (p *proc) compileSeccomp() error {
	s := p.cfg.Spec.Linux.Seccomp
	if s == nil {
		return nil
	}
	return p.log.Step("seccomp compile", fmt.Sprintf("default %s, %d rules", s.DefaultAction, len(s.Syscalls)), func() error {
		prog, err := seccomp.Compile(s)
		if err != nil {
			return err
		}
		for _, w := range prog.Warnings {
			p.warn("seccomp: %s", w)
		}
		p.filter = prog
		return nil
	})
}

// loadSeccompBeforeSetuid loads the filter while init still holds CAP_SYS_ADMIN,
// which the kernel requires without no_new_privs; and, with notify rules,
// before ready, so the listener fd reaches the agent during create, as
// runc does. Otherwise it waits for loadSeccompBeforeExec, right before execve,
// so init's own last steps run unfiltered.
func (p *proc) loadSeccompBeforeSetuid() error {
	if p.filter == nil || (p.cfg.Spec.Process.NoNewPrivileges && !p.filter.Notify) {
		return nil
	}
	return p.loadSeccomp()
}

func (p *proc) loadSeccompBeforeExec() error {
	if p.filter == nil || p.seccompLoaded {
		return nil
	}
	return p.loadSeccomp()
}

// loadSeccomp binds the filter to this (locked, main) thread, the one that
// execs the program; with notify rules it sends the listener fd and the
// container state to the agent over the socket the parent connected.
func (p *proc) loadSeccomp() error {
	p.seccompLoaded = true
	var fd int
	err := p.log.Step("seccomp load", fmt.Sprintf("%d instructions, flags %#x", len(p.filter.Filter), p.filter.Flags), func() error {
		var err error
		fd, err = p.filter.Load()
		return err
	})
	if err != nil || fd < 0 {
		return err
	}
	defer unix.Close(fd)
	return p.log.Step("seccomp notify", "send listener fd to "+p.cfg.Spec.Linux.Seccomp.ListenerPath, func() error {
		return p.sendListener(fd)
	})
}

func (p *proc) sendListener(fd int) error {
	sock, err := optionalFd(syncproto.EnvSeccompListener, "seccomp listener")
	if err != nil {
		return err
	}
	if sock == nil {
		return fmt.Errorf("seccomp notify rules need linux.seccomp.listenerPath")
	}
	defer sock.Close()
	st, err := seccomp.ListenerState(p.cfg.HookState("creating"), p.cfg.Pid, p.cfg.Spec.Linux.Seccomp.ListenerMetadata)
	if err != nil {
		return err
	}
	return unix.Sendmsg(int(sock.Fd()), st, unix.UnixRights(fd), nil, 0)
}
