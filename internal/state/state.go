package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/rawfile"
)

// Sentinel errors; classify with errors.Is.
var (
	ErrExist    = errors.New("container already exists")
	ErrNotExist = errors.New("container does not exist")
)

// Status of a container, as the runtime-spec names them.
type Status string

// The runtime-spec statuses, plus paused (runc's extension).
const (
	Creating Status = "creating"
	Created  Status = "created"
	Running  Status = "running"
	Stopped  Status = "stopped"
	Paused   Status = "paused"
)

// FifoName is the file `start` opens to release init.
const FifoName = "exec.fifo"

// State is what hako remembers about a container between commands.
type State struct {
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	PidStart    uint64            `json:"pidStart"` // /proc/<pid>/stat field 22
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Cgroups     map[string]string `json:"cgroups,omitempty"`
	Spec        *specs.Spec       `json:"spec"`
	// SpecJSON, when set, is the spec as config.json's bytes (normalized
	// again on load): saved as is instead of re-encoding Spec.
	SpecJSON []byte `json:"-"`
	// Creating: create has not finished (the state directory holds the
	// marker file "creating"). Whoever holds the lock and sees it knows
	// that create died midway.
	Creating bool `json:"creating,omitempty"`
}

// Dir is a container's state directory.
type Dir struct {
	Path string
	lock *os.File
}

// Create makes the state directory for id, refusing a duplicate. It is
// marked as a create in progress until DoneCreating.
func Create(root, id string) (*Dir, error) {
	p := filepath.Join(root, id)
	err := unix.Mkdir(p, 0o711|creatingMode)
	if err == unix.ENOENT { // the first container under this root
		if err = os.MkdirAll(root, 0o711); err != nil {
			return nil, fmt.Errorf("create state root %s: %w", root, err)
		}
		err = unix.Mkdir(p, 0o711|creatingMode)
	}
	if err == unix.EEXIST {
		return nil, fmt.Errorf("%q: %w", id, ErrExist)
	}
	if err != nil {
		return nil, fmt.Errorf("create state dir: %w", &os.PathError{Op: "mkdir", Path: p, Err: err})
	}
	d := &Dir{Path: p}
	if err := d.Lock(); err != nil {
		os.RemoveAll(p)
		return nil, err
	}
	return d, nil
}

// Open returns the existing state directory for id.
func Open(root, id string) (*Dir, error) {
	p := filepath.Join(root, id)
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%q: %w", id, ErrNotExist)
		}
		return nil, err
	}
	return &Dir{Path: p}, nil
}

// Lock takes the directory's exclusive flock (blocking), so two commands on one
// container never interleave. The lock is released by Unlock or on exit.
func (d *Dir) Lock() error {
	f, err := rawfile.Open(d.Path, os.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("lock state dir: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return fmt.Errorf("lock state dir %s: %w", d.Path, err)
	}
	d.lock = f
	return nil
}

// Unlock releases the lock.
func (d *Dir) Unlock() {
	if d.lock != nil {
		d.lock.Close()
		d.lock = nil
	}
}

// Fifo is the path of exec.fifo.
func (d *Dir) Fifo() string { return filepath.Join(d.Path, FifoName) }

// Save writes state.json atomically: a reader sees the old or the new file,
// never half of one.
func (d *Dir) Save(s *State) error {
	data, err := encode(s)
	if err != nil {
		return err
	}
	// A temporary file renamed over state.json, so a reader never sees half
	// of one; raw syscalls (no os.File, so no poller registration and no
	// random-name retries: the directory is locked, the name unique).
	tmp := d.Path + "/.state-" + strconv.Itoa(os.Getpid())
	fd, err := unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("save state: %w", &os.PathError{Op: "open", Path: tmp, Err: err})
	}
	for b := data; len(b) > 0 && err == nil; {
		var n int
		n, err = unix.Write(fd, b)
		b = b[n:]
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Rename(tmp, d.Path+"/state.json")
	}
	if err != nil {
		unix.Unlink(tmp)
		return fmt.Errorf("save state %s: %w", d.Path, err)
	}
	return nil
}

// A create in progress is marked by the sticky bit of the state directory:
// Create makes the directory with it, DoneCreating clears it. (The flag
// used to be a field of state.json, rewritten at the end of create: the
// rename freed a block, which on a state root mounted with discard is a
// synchronous discard on the path to start. A marker file instead costs an
// inode allocation, the most expensive part of ext4's file creation under
// 50 concurrent creates. A mode bit costs neither, on any filesystem.)
const creatingMode = unix.S_ISVTX

// DoneCreating clears the mark of a create in progress.
func (d *Dir) DoneCreating() error {
	if err := unix.Chmod(d.Path, 0o711); err != nil {
		return &os.PathError{Op: "chmod", Path: d.Path, Err: err}
	}
	return nil
}

// Load reads state.json. A directory without one is a container whose create
// has not finished (or was killed): Load returns (nil, nil) for it.
func (d *Dir) Load() (*State, error) {
	data, err := rawfile.ReadFile(filepath.Join(d.Path, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	s, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", d.Path, err)
	}
	if !s.Creating { // true in a state.json written by hako before the mode bit
		var st unix.Stat_t
		s.Creating = unix.Stat(d.Path, &st) == nil && st.Mode&creatingMode != 0
	}
	return s, nil
}

// Remove deletes the state directory.
func (d *Dir) Remove() error {
	d.Unlock()
	// What is normally there, named (os.RemoveAll first tries unlink,
	// rmdir, then lists the directory: 4 more syscalls on every delete).
	_ = unix.Unlink(filepath.Join(d.Path, "state.json"))
	_ = unix.Unlink(d.Fifo())
	if err := unix.Rmdir(d.Path); err == nil || err == unix.ENOENT {
		return nil
	}
	return os.RemoveAll(d.Path)
}

// List returns the ids under root.
func List(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// StartTime returns field 22 of /proc/<pid>/stat (start time in clock ticks
// since boot), which together with the pid names one process for ever.
func StartTime(pid int) (uint64, error) {
	data, err := rawfile.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStartTime(string(data))
}

func parseStartTime(stat string) (uint64, error) {
	// comm (field 2) may hold spaces and parentheses: split after the last ')'.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 20 {
		return 0, fmt.Errorf("malformed stat %q", stat)
	}
	// f[0] is field 3 (state), so field 22 is f[19].
	return strconv.ParseUint(f[19], 10, 64)
}

// ExitStatus is the wait status of s's init when it has exited and its
// parent (hako run, conmon, a shim) has not reaped it yet: field 52 of a
// zombie's /proc/<pid>/stat (Linux 3.5). ok is false for a live process,
// one already reaped, or another process that took the pid.
func (s *State) ExitStatus() (ws unix.WaitStatus, ok bool) {
	if s == nil || s.Pid <= 0 {
		return 0, false
	}
	data, err := rawfile.ReadFile("/proc/" + strconv.Itoa(s.Pid) + "/stat")
	if err != nil {
		return 0, false
	}
	return parseZombieStatus(string(data), s.PidStart)
}

func parseZombieStatus(stat string, start uint64) (unix.WaitStatus, bool) {
	st, err := parseStartTime(stat)
	if err != nil || st != start {
		return 0, false
	}
	f := strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:])
	// f[0] is field 3 (state), so field 52 (exit_code) is f[49].
	if f[0] != "Z" || len(f) < 50 {
		return 0, false
	}
	code, err := strconv.ParseUint(f[49], 10, 32)
	if err != nil {
		return 0, false
	}
	return unix.WaitStatus(code), true
}

// Alive reports whether the init process recorded in s is still the same
// process (and not a zombie).
func (s *State) Alive() bool {
	if s == nil || s.Pid <= 0 {
		return false
	}
	data, err := rawfile.ReadFile("/proc/" + strconv.Itoa(s.Pid) + "/stat")
	if err != nil {
		return false
	}
	st, err := parseStartTime(string(data))
	if err != nil || st != s.PidStart {
		return false
	}
	i := strings.LastIndexByte(string(data), ')')
	return i+2 < len(data) && data[i+2] != 'Z' && data[i+2] != 'X'
}
