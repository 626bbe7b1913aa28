package engines

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// leftovers is what one engine test must find gone at its end.
type leftovers struct {
	// marks are strings only this test's things contain (its private
	// directory, its unique names): a process whose command line, cwd or
	// root, or a mount whose line holds one, is a leftover.
	marks []string
	// cgroups are globs that must match no directory, e.g.
	// /sys/fs/cgroup/*/PARENT/* for the containers' cgroups.
	cgroups []string
	// parents are globs of directories the engine leaves by design (a
	// containerd namespace's cgroup, a cgroup parent, a runtime root per
	// namespace): removed after the checks, once they are empty.
	parents []string
}

// check reports every leftover, allowing a few seconds for processes that
// are being killed to go, and then removes it: the processes (all started
// by this test's daemons, found by the test's marks) are SIGKILLed by pid,
// the mounts detached, the cgroups emptied and removed. A failed test
// leaves the machine as clean as a passing one.
func (l *leftovers) check(t *testing.T) {
	t.Helper()
	var procs map[int]string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		procs = l.procs()
		if len(procs) == 0 && len(l.mounts()) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for pid, desc := range procs {
		t.Errorf("leftover: %s", desc)
		unix.Kill(pid, unix.SIGKILL)
	}
	for _, g := range l.cgroups {
		m, _ := filepath.Glob(g)
		for _, d := range m {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				t.Errorf("leftover: cgroup %s", d)
				killCgroup(d)
			}
		}
	}
	mounts := l.mounts()
	for _, m := range mounts {
		t.Errorf("leftover: mount %s", m)
	}
	// Deepest first: a mount under another must go before it.
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	for _, m := range mounts {
		unix.Unmount(m, unix.MNT_DETACH)
	}
	for _, g := range append(l.cgroups, l.parents...) {
		rmEmptyTree(g)
	}
	for _, g := range l.parents {
		if m, _ := filepath.Glob(g); len(m) > 0 {
			t.Errorf("leftover: %v could not be removed", m)
		}
	}
}

func (l *leftovers) has(s string) bool {
	for _, m := range l.marks {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// procs are live processes (not zombies) that carry a mark, by pid.
func (l *leftovers) procs() map[int]string {
	left := map[int]string{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		if pid == os.Getpid() || !live(d) {
			continue
		}
		cmd, _ := os.ReadFile(d + "/cmdline")
		cwd, _ := os.Readlink(d + "/cwd")
		root, _ := os.Readlink(d + "/root")
		args := strings.ReplaceAll(string(cmd), "\x00", " ")
		if l.has(args) || l.has(cwd) || l.has(root) {
			left[pid] = fmt.Sprintf("process %d %q (cwd %s, root %s)", pid, args, cwd, root)
		}
	}
	return left
}

// mounts are the mount points whose mountinfo line carries a mark.
func (l *leftovers) mounts() []string {
	var left []string
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(line); len(f) > 4 && l.has(line) {
			left = append(left, f[4])
		}
	}
	return left
}

// live is false for a gone or zombie process.
func live(dir string) bool {
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return false
	}
	rest := string(b[strings.LastIndex(string(b), ")")+1:])
	return !strings.HasPrefix(rest, " Z") && !strings.HasPrefix(rest, " X")
}

// killCgroup SIGKILLs every process in the cgroup directory d and below.
func killCgroup(d string) {
	filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
		if err == nil && e.IsDir() {
			for _, f := range strings.Fields(readFile(p + "/cgroup.procs")) {
				if pid, err := strconv.Atoi(f); err == nil {
					unix.Kill(pid, unix.SIGKILL)
				}
			}
		}
		return nil
	})
	time.Sleep(100 * time.Millisecond)
}

// rmEmptyTree removes the directories matching glob and the directories
// under them, deepest first. rmdir fails on a cgroup with processes and on
// a directory with files, so only what is empty goes.
func rmEmptyTree(glob string) {
	m, _ := filepath.Glob(glob)
	for _, top := range m {
		var dirs []string
		filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			os.Remove(dirs[i])
		}
	}
}

// removeIfNew registers a cleanup that removes the paths that do not exist
// now, in order (files, then the directories holding them, which go only
// when empty): what an engine makes outside its configured directories.
func removeIfNew(t *testing.T, paths ...string) {
	var fresh []string
	for _, p := range paths {
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			fresh = append(fresh, p)
		}
	}
	t.Cleanup(func() {
		for _, p := range fresh {
			os.Remove(p)
		}
	})
}
