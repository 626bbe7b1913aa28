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
