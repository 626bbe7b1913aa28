package initproc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"hako/internal/caps"
	"hako/internal/syncproto"
)

// finishProcess turns init into the user's process: terminal, groups,
// uid/gid with capabilities kept across the change, the capability sets,
// no_new_privs, umask and working directory.
func (p *proc) finishProcess(capset *caps.Set, console *os.File) error {
	if console != nil {
		if err := p.log.Step("console", "pty as stdio + controlling terminal", func() error {
			return useConsole(console)
		}); err != nil {
			return err
		}
	}
	if err := capset.DropBounding(p.log); err != nil {
		return err
	}
	if err := p.rlimits(); err != nil {
		return err
	}
	cwd := p.cfg.Spec.Process.Cwd
	if cwd == "" {
		cwd = "/"
	}
	// Checked once as root and before any seccomp filter (which may deny
	// getcwd); the chdir as the user below resolves the same path in the
	// same root.
	if err := p.log.Step("chdir", cwd+" (check it is inside the root)", func() error { return chdirInside(cwd) }); err != nil {
		return err
	}
	// Before the uid change: loading a filter without no_new_privs needs
	// CAP_SYS_ADMIN in the effective set, which setuid to a non-root uid
	// clears.
	if err := p.loadSeccompBeforeSetuid(); err != nil {
		return err
	}
	if err := p.setUser(); err != nil {
		return err
	}
	if err := capset.Apply(p.log); err != nil {
		return err
	}
	if p.cfg.Spec.Process.NoNewPrivileges {
		if err := p.log.Step("prctl", "PR_SET_NO_NEW_PRIVS", func() error {
			return unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
		}); err != nil {
			return err
		}
	}
	mask := 0o022
	if u := p.cfg.Spec.Process.User.Umask; u != nil {
		mask = int(*u)
	}
	unix.Umask(mask)
	// Again as the user: the kernel checks search permission as that user.
	return p.log.Step("chdir", cwd, func() error { return unix.Chdir(cwd) })
}

// chdirInside changes to cwd and checks the result is inside the
// container's root: a cwd such as /proc/self/fd/N through a leaked host fd
// would otherwise land outside it (CVE-2024-21626). getcwd(2) reports such a
// directory as "(unreachable)/...", or fails.
func chdirInside(cwd string) error {
	if err := unix.Chdir(cwd); err != nil {
		return err
	}
	wd, err := unix.Getwd()
	if err != nil || !strings.HasPrefix(wd, "/") {
		return fmt.Errorf("working directory %q is outside the container's root (%q, %v)", cwd, wd, err)
	}
	return nil
}

// rlimits hands over to the parent, which applies process.rlimits to init
// (see syncproto's table for why there and then).
func (p *proc) rlimits() error {
	if len(p.cfg.Spec.Process.Rlimits) == 0 {
		return nil
	}
	if err := p.sync.Send(syncproto.Msg{Type: syncproto.Rlimits}); err != nil {
		return err
	}
	_, err := p.sync.Expect(syncproto.RlimitsDone, nil)
	return err
}

// setUser sets supplementary groups, gid and uid. PR_SET_KEEPCAPS keeps the
// permitted set across the uid change so caps.Apply can then set exactly the
// configured sets (capabilities(7)).
func (p *proc) setUser() error {
	u := p.cfg.Spec.Process.User
	ops := fmt.Sprintf("uid=%d gid=%d groups=%v", u.UID, u.GID, u.AdditionalGids)
	return p.log.Step("setuid", ops, func() error {
		if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
			return err
		}
		if err := setGroups(u.AdditionalGids); err != nil {
			return err
		}
		// syscall.Setgid/Setuid change every thread of the process, unlike
		// the raw syscalls, so no Go thread keeps root.
		if err := syscall.Setgid(int(u.GID)); err != nil {
			return fmt.Errorf("setgid %d: %w", u.GID, err)
		}
		if err := syscall.Setuid(int(u.UID)); err != nil {
			return fmt.Errorf("setuid %d: %w", u.UID, err)
		}
		return unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0)
	})
}

// setGroups sets the supplementary groups (none: clears hako's own). It
// never asks /proc whether setgroups is allowed: the container's /proc may
// be anything by now (CVE-2019-16884), so it tries, and EPERM means a user
// namespace made with setgroups "deny", where only an unprivileged
// caller's empty list is possible anyway.
func setGroups(gids []uint32) error {
	g := make([]int, len(gids))
	for i, v := range gids {
		g[i] = int(v)
	}
	err := syscall.Setgroups(g)
	if err == syscall.EPERM && len(gids) == 0 {
		return nil
	}
	if err == syscall.EPERM {
		return fmt.Errorf("additionalGids %v: setgroups is denied in this user namespace (it was created by an unprivileged user)", gids)
	}
	if err != nil {
		return fmt.Errorf("setgroups %v: %w", gids, err)
	}
	return nil
}

// lookPath resolves args[0] with the container's PATH now, so a missing
// program fails `create` with a clear error instead of vanishing after start.
func (p *proc) lookPath() (string, error) {
	name := p.cfg.Spec.Process.Args[0]
	var found string
	err := p.log.Step("lookup", name, func() error {
		var err error
		found, err = lookPath(name, getenv(p.cfg.Spec.Process.Env, "PATH"))
		return err
	})
	return found, err
}

func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return name, checkExec(name)
	}
	if path == "" {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	var first error
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		err := checkExec(p)
		if err == nil {
			return p, nil
		}
		if first == nil && !errors.Is(err, unix.ENOENT) {
			first = err
		}
	}
	if first != nil {
		return "", first
	}
	return "", fmt.Errorf("%q not found in PATH %s: %w", name, path, unix.ENOENT)
}

func checkExec(p string) error {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Errorf("%s is a directory: %w", p, unix.EACCES)
	}
	return unix.Access(p, unix.X_OK)
}

func getenv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// exec replaces init with the user program. Only the three stdio fds and
// the preserved ones survive: everything hako opened is close-on-exec.
func (p *proc) exec(argv0 string) error {
	env := p.cfg.Spec.Process.Env
	if getenv(env, "HOME") == "" {
		env = append(env, "HOME="+homeDir(int(p.cfg.Spec.Process.User.UID)))
	}
	// Whatever hako itself inherited without close-on-exec (a caller's
	// stray fds) must not reach the container (CVE-2024-21626 is the
	// extreme case): everything from 3+preserved on closes at execve.
	// This runs before a late seccomp filter is loaded; an early one (no
	// no_new_privs) may already deny close_range, hence the fallback.
	first := 3 + p.cfg.PreserveFDs
	if err := p.log.Step("close_range", fmt.Sprintf("%d.. CLOEXEC", first), func() error {
		return cloexecFrom(first)
	}); err != nil {
		return err
	}
	if err := p.loadSeccompBeforeExec(); err != nil {
		return err
	}
	p.log.Note("exec", strings.Join(p.cfg.Spec.Process.Args, " "))
	err := unix.Exec(argv0, p.cfg.Spec.Process.Args, env)
	return p.log.Step("exec", argv0, func() error { return err })
}

// cloexecFrom marks every fd >= first close-on-exec: close_range(2) where the
// kernel (and any seccomp filter already loaded) allows it, else one fcntl
// per open fd as listed in /proc/self/fd.
func cloexecFrom(first int) error {
	err := unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	ents, rerr := os.ReadDir("/proc/self/fd")
	if rerr != nil {
		return fmt.Errorf("close_range: %w; listing /proc/self/fd: %v", err, rerr)
	}
	for _, e := range ents {
		if fd, aerr := strconv.Atoi(e.Name()); aerr == nil && fd >= first {
			if _, ferr := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); ferr != nil && ferr != unix.EBADF {
				return fmt.Errorf("mark fd %d close-on-exec: %w", fd, ferr)
			}
		}
	}
	return nil
}

// homeDir finds uid's home in the container's /etc/passwd, defaulting to "/".
func homeDir(uid int) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return "/"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		parts := strings.Split(s.Text(), ":")
		if len(parts) >= 6 && parts[2] == strconv.Itoa(uid) {
			return parts[5]
		}
	}
	return "/"
}
