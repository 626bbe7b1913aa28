package initproc

import (
	"os"

	"golang.org/x/sys/unix"

	"hako/internal/lsm"
)

// openExecAttrs opens the exec attribute file of each security module the
// process asks for (AppArmor profile, SELinux label), to be written by
// lsmExec on this same thread. Init opens them early, through the host's
// /proc; exec, in the container since it started, through the container's
// (checked to be a procfs with nothing mounted over the path).
func (p *proc) openExecAttrs() error {
	for _, m := range []lsm.Module{lsm.AppArmor, lsm.SELinux} {
		paths, _, ok := lsm.ExecAttr(m, p.cfg.Spec.Process)
		if !ok || p.attrs[m] != nil {
			continue
		}
		var f *os.File
		if err := p.log.Step(m.Step(), "open /proc/"+paths[0], func() error {
			var err error
			f, err = lsm.OpenExecAttr(m, paths)
			return err
		}); err != nil {
			return err
		}
		if p.attrs == nil {
			p.attrs = map[lsm.Module]*os.File{}
		}
		p.attrs[m] = f
	}
	return nil
}

// lsmExec requests the profile and label for the program's execve, as the
// last step of the process's set-up (see initplan's lsmExec for why there:
// the change applies only at execve; a profile the kernel does not know
// fails this write, with ENOENT, so create fails, as in runc).
func (p *proc) lsmExec() error {
	if err := p.openExecAttrs(); err != nil {
		return err
	}
	for _, m := range []lsm.Module{lsm.AppArmor, lsm.SELinux} {
		_, data, ok := lsm.ExecAttr(m, p.cfg.Spec.Process)
		if !ok {
			continue
		}
		f := p.attrs[m]
		err := p.log.Step(m.Step(), lsm.Operands(m, p.cfg.Spec.Process), func() error {
			// The bare errno, as the plan executor reports it.
			_, err := unix.Write(int(f.Fd()), []byte(data))
			return err
		})
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
