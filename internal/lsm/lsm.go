package lsm

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/rawfile"
)

// AppArmorEnabled reports whether the host has AppArmor enabled, as runc's
// apparmor.IsEnabled decides: securityfs has an apparmor directory and the
// module's "enabled" parameter says Y.
var AppArmorEnabled = sync.OnceValue(func() bool {
	if _, err := os.Stat("/sys/kernel/security/apparmor"); err != nil {
		return false
	}
	b, err := rawfile.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && len(b) > 0 && b[0] == 'Y'
})

// SELinuxEnabled reports whether the host has SELinux enabled, as
// go-selinux's GetEnabled (runc's check) decides on its fast path: a
// read-write selinuxfs at /sys/fs/selinux, and a process label other than
// "kernel" (hako does not look for selinuxfs anywhere else).
var SELinuxEnabled = sync.OnceValue(func() bool {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/selinux", &st); err != nil {
		return false
	}
	if uint32(st.Type) != uint32(unix.SELINUX_MAGIC) || st.Flags&unix.ST_RDONLY != 0 {
		return false
	}
	b, err := rawfile.ReadFile("/proc/thread-self/attr/current")
	return err == nil && string(bytes.TrimRight(b, "\x00\n")) != "kernel"
})

// ErrSELinuxDisabled is runc's refusal, word for word: a process label on
// a host without SELinux.
var ErrSELinuxDisabled = errors.New("selinux label is specified in config, but selinux is disabled or not supported")

// Check refuses a process whose profile or label this host cannot apply,
// before anything is made. runc refuses both as well: an SELinux label in
// its config validation (ErrSELinuxDisabled), an AppArmor profile when its
// init's write to /proc/self/attr/exec fails (EINVAL without AppArmor);
// hako says why instead of EINVAL. It costs nothing when p asks for
// neither.
func Check(p *specs.Process) error {
	if p == nil {
		return nil
	}
	if p.ApparmorProfile != "" && !AppArmorEnabled() {
		return fmt.Errorf("process.apparmorProfile %q: AppArmor is not enabled on this host (/sys/module/apparmor/parameters/enabled is not Y); like runc, hako does not run the container unconfined instead", p.ApparmorProfile)
	}
	if p.SelinuxLabel != "" && !SELinuxEnabled() {
		return ErrSELinuxDisabled
	}
	return nil
}

// Module names what an exec attribute write is for.
type Module int

const (
	AppArmor Module = iota
	SELinux
)

// ExecAttr returns where init writes p's exec-time change for m, relative
// to a procfs root (the first that exists: AppArmor has its own directory
// since Linux 5.1, the shared file before), and what it writes. ok is false
// when p asks for nothing from m.
func ExecAttr(m Module, p *specs.Process) (paths []string, data string, ok bool) {
	switch m {
	case AppArmor:
		if p.ApparmorProfile == "" {
			return nil, "", false
		}
		// "exec NAME" is libapparmor's aa_change_onexec: the profile
		// applies from the next execve on, so init's own set-up is not
		// confined by it.
		return []string{"thread-self/attr/apparmor/exec", "thread-self/attr/exec"}, "exec " + p.ApparmorProfile, true
	case SELinux:
		if p.SelinuxLabel == "" {
			return nil, "", false
		}
		// go-selinux's SetExecLabel: the label of the next execve.
		return []string{"thread-self/attr/exec"}, p.SelinuxLabel, true
	}
	return nil, "", false
}

// Step names the trace step of m's exec attribute write.
func (m Module) Step() string {
	if m == AppArmor {
		return "apparmor"
	}
	return "selinux"
}

// Operands describes the write for traces and errors: what is written,
// "exec NAME" ("apparmor exec docker-default").
func Operands(m Module, p *specs.Process) string {
	if m == AppArmor {
		return "exec " + p.ApparmorProfile
	}
	return "exec " + p.SelinuxLabel
}

// OpenExecAttr opens this thread's exec attribute file for m, for writing,
// through the procfs mounted at /proc: /proc must be a procfs root and
// nothing may be mounted anywhere on the path below it (RESOLVE_NO_XDEV),
// so an image or a volume cannot send the write elsewhere
// (CVE-2019-16884). The returned file must be written by the same thread.
//
// Preconditions: called on the locked OS thread that goes on to execve.
func OpenExecAttr(m Module, paths []string) (*os.File, error) {
	proc, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /proc: %w", err)
	}
	defer unix.Close(proc)
	if err := checkProcRoot(proc); err != nil {
		return nil, err
	}
	how := &unix.OpenHow{Flags: unix.O_WRONLY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_XDEV | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_BENEATH}
	for i, p := range paths {
		fd, err := unix.Openat2(proc, p, how)
		if err == nil {
			return os.NewFile(uintptr(fd), "/proc/"+p), nil
		}
		if errors.Is(err, unix.EXDEV) {
			return nil, fmt.Errorf("open /proc/%s: something is mounted over it or its path (%w)", p, err)
		}
		if !errors.Is(err, unix.ENOENT) || i == len(paths)-1 {
			return nil, fmt.Errorf("open /proc/%s: %w", p, err)
		}
	}
	return nil, fmt.Errorf("no exec attribute file for %s", m.Step())
}

// checkProcRoot checks fd is the root of a procfs (its inode is always 1).
func checkProcRoot(fd int) error {
	var sf unix.Statfs_t
	var st unix.Stat_t
	if err := unix.Fstatfs(fd, &sf); err != nil {
		return fmt.Errorf("statfs /proc: %w", err)
	}
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("stat /proc: %w", err)
	}
	if uint32(sf.Type) != uint32(unix.PROC_SUPER_MAGIC) || st.Ino != procRootIno {
		return errors.New("/proc is not the root of a procfs: the profile or label would not be applied")
	}
	return nil
}

const procRootIno = 1
