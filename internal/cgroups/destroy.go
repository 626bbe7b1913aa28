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

// Destroy removes the cgroup from every hierarchy, child cgroups first.
// Parents such as /hako stay, as Docker's /docker does: removing an empty
// parent with its last container and making it again for the next one cost
// ~1.1 ms per container on this cgroup v1 host (20 more mkdir/rmdir).
func (m *manager) Destroy() error {
	var errs []error
	for _, d := range m.dirs() {
		errs = append(errs, removeTree(m.log, d))
	}
	return errors.Join(errs...)
}

// removeTree removes dir and the cgroups below it. Only directories are
// removed: a cgroup's control files go with it.
func removeTree(log *trace.Log, dir string) error {
	// Usually there is nothing below: rmdir straight away. EBUSY means
	// child cgroups or a task not yet released: the slow path handles both.
	if err := unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
		log.Note("cgroup rmdir", dir)
		return nil
	}
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
