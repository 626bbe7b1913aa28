package cgroups

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"hako/internal/rawfile"
	"hako/internal/trace"
)

// cg is one cgroup directory and the log its writes go to.
type cg struct {
	dir string
	log *trace.Log
	// at, when set, is an O_PATH fd of dir: files are opened relative to
	// it (see opened).
	at *int
}

// opened runs fn with c's directory held open, so that each file fn
// writes or reads is looked up from the directory rather than from / (in
// cgroupfs every path component is a revalidation under the kernfs lock,
// which concurrent cgroup mkdirs and rmdirs take for writing: measured as
// off-CPU time with 50 containers starting at once). For directories
// with many writes (v1 devices rules, cpuset); one more syscall otherwise.
func (c cg) opened(fn func(cg) error) error {
	fd, err := unix.Open(c.dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fn(c) // by path: the writes then fail with the usual errors
	}
	defer unix.Close(fd)
	c.at = &fd
	return fn(c)
}

// open opens one of c's files.
func (c cg) open(file string, flags int) (int, error) {
	if c.at != nil {
		return unix.Openat(*c.at, file, flags|unix.O_CLOEXEC, 0)
	}
	return unix.Open(filepath.Join(c.dir, file), flags|unix.O_CLOEXEC, 0)
}

// write writes value to a control file in one write(2): the kernel parses
// each write on its own. The file is never created: a missing file means a
// missing controller or an old kernel, and must fail as such.
func (c cg) write(file, value string) error {
	p := filepath.Join(c.dir, file)
	return c.log.Step("cgroup write", p+" = "+value, func() error {
		// Raw open/write/close: an *os.File would add fcntl and epoll
		// calls to each of the dozens of writes on the start path.
		fd, err := c.open(file, unix.O_WRONLY|unix.O_TRUNC)
		if err != nil {
			return err
		}
		_, err = unix.Write(fd, []byte(value))
		if cerr := unix.Close(fd); err == nil {
			err = cerr
		}
		return err
	})
}

// note records a limit that is accepted but not applied, and why.
func (c cg) note(what, why string) {
	c.log.Note("cgroup skip", what+": "+why)
}

func (c cg) read(file string) (string, error) {
	if c.at != nil {
		fd, err := c.open(file, unix.O_RDONLY)
		if err != nil {
			return "", &os.PathError{Op: "open", Path: filepath.Join(c.dir, file), Err: err}
		}
		defer unix.Close(fd)
		var buf [512]byte // cpuset lists and single values
		n, err := unix.Read(fd, buf[:])
		if err != nil {
			return "", &os.PathError{Op: "read", Path: filepath.Join(c.dir, file), Err: err}
		}
		if n < len(buf) {
			return strings.TrimSpace(string(buf[:n])), nil
		}
	}
	b, err := rawfile.ReadFile(filepath.Join(c.dir, file))
	return strings.TrimSpace(string(b)), err
}

// uint reads a one-number file; "max" (v2's "no limit") reads as MaxUint64.
func (c cg) uint(file string) (uint64, error) {
	s, err := c.read(file)
	if err != nil {
		return 0, err
	}
	return parseUint(s, file)
}

func (c cg) has(file string) bool {
	_, err := os.Stat(filepath.Join(c.dir, file))
	return err == nil
}

// keyed reads a flat-keyed file ("key value" lines: memory.stat, cpu.stat,
// memory.events).
func (c cg) keyed(file string) (map[string]uint64, error) {
	f, err := rawfile.Open(filepath.Join(c.dir, file), os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := parseKeyed(f)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", f.Name(), err)
	}
	return m, nil
}

// controllers reads cgroup.controllers: the v2 controllers this cgroup's
// parent has enabled for it.
func (c cg) controllers() map[string]bool {
	s, _ := c.read("cgroup.controllers")
	set := map[string]bool{}
	for _, name := range strings.Fields(s) {
		set[name] = true
	}
	return set
}

func parseUint(s, what string) (uint64, error) {
	if s == "max" {
		return math.MaxUint64, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", what, err)
	}
	return v, nil
}

// parseKeyed parses "key value" lines; kernel docs call it flat keyed.
func parseKeyed(r io.Reader) (map[string]uint64, error) {
	m := map[string]uint64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			return nil, fmt.Errorf("line %q: want key value", sc.Text())
		}
		n, err := parseUint(strings.TrimSpace(v), k)
		if err != nil {
			return nil, err
		}
		m[k] = n
	}
	return m, sc.Err()
}
