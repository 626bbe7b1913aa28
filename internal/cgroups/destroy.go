package cgroups

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"hako/internal/trace"
)

// Destroy removes the cgroup from every hierarchy, child cgroups first,
// and the default parent /hako once it is empty, so no trace of hako stays
// on a host that has no container left. A parent another container still
// uses is busy and stays (rmdir fails with EBUSY; mkdirAll copes with a
// parent removed under it).
func (m *manager) Destroy() error {
	var errs []error
	for _, d := range m.dirs() {
		errs = append(errs, removeTree(m.log, d))
		if parent := filepath.Dir(d); filepath.Base(parent) == "hako" {
			_ = unix.Rmdir(parent) // best effort: busy while in use
		}
	}
	return errors.Join(errs...)
}

// removeTree removes dir and the cgroups below it. Only directories are
// removed: a cgroup's control files go with it.
func removeTree(log *trace.Log, dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if err := removeTree(log, filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return log.Step("cgroup rmdir", dir, func() error { return rmdir(dir) })
}

// rmdir retries EBUSY briefly: a cgroup stays busy until the kernel has
// released its last task, a moment after the process was reaped.
func rmdir(dir string) error {
	delay := 10 * time.Millisecond
	for i := 0; ; i++ {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || i == 6 {
			return err
		}
		time.Sleep(delay)
		delay *= 2
	}
}
