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
}

// write writes value to a control file in one write(2): the kernel parses
// each write on its own. The file is never created: a missing file means a
// missing controller or an old kernel, and must fail as such.
func (c cg) write(file, value string) error {
	p := filepath.Join(c.dir, file)
	return c.log.Step("cgroup write", p+" = "+value, func() error {
		// Raw open/write/close: an *os.File would add fcntl and epoll
		// calls to each of the dozens of writes on the start path.
		fd, err := unix.Open(p, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0)
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
