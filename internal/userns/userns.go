package userns

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Range is one line of /etc/subuid or /etc/subgid.
type Range struct {
	Start, Count uint32
}

// ParseSubIDs reads subordinate ranges for a user (by name or uid) from r,
// in /etc/subuid format: "name:start:count".
func ParseSubIDs(r io.Reader, name, uid string) ([]Range, error) {
	var out []Range
	s := bufio.NewScanner(r)
	for s.Scan() {
		f := strings.Split(strings.TrimSpace(s.Text()), ":")
		if len(f) != 3 || (f[0] != name && f[0] != uid) {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 {
			return nil, fmt.Errorf("malformed line %q", s.Text())
		}
		out = append(out, Range{uint32(start), uint32(count)})
	}
	return out, s.Err()
}

// SubIDs returns the caller's ranges from file (/etc/subuid or /etc/subgid).
func SubIDs(file string) ([]Range, error) {
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseSubIDs(f, u.Username, u.Uid)
}

// Mappings maps container 0 to id (the caller) and container 1.. to the
// ranges, as podman does for rootless containers.
func Mappings(id uint32, ranges []Range) []specs.LinuxIDMapping {
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: id, Size: 1}}
	next := uint32(1)
	for _, r := range ranges {
		m = append(m, specs.LinuxIDMapping{ContainerID: next, HostID: r.Start, Size: r.Count})
		next += r.Count
	}
	return m
}

// NeedsHelper reports whether an unprivileged caller needs newuidmap to
// write m: the kernel lets it write only one line mapping its own id.
func NeedsHelper(m []specs.LinuxIDMapping, own uint32) bool {
	return os.Geteuid() != 0 && !(len(m) == 1 && m[0].HostID == own && m[0].Size == 1)
}

// WriteMaps runs newuidmap and newgidmap for pid.
func WriteMaps(pid int, uids, gids []specs.LinuxIDMapping) error {
	if err := helper("newuidmap", pid, uids, "/etc/subuid"); err != nil {
		return err
	}
	return helper("newgidmap", pid, gids, "/etc/subgid")
}

func helper(name string, pid int, m []specs.LinuxIDMapping, subfile string) error {
	path, err := exec.LookPath(name)
	if err != nil {
		return fmt.Errorf("%s not found: multi-range ID mappings for an unprivileged user need it (Debian package uidmap)", name)
	}
	args := []string{strconv.Itoa(pid)}
	for _, e := range m {
		args = append(args, fmt.Sprint(e.ContainerID), fmt.Sprint(e.HostID), fmt.Sprint(e.Size))
	}
	var out bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v: %s%s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()), helperHint(path, subfile))
	}
	return nil
}

// helperHint guesses why newuidmap refused: not setuid, or the ranges are
// not the caller's in /etc/subuid.
func helperHint(path, subfile string) string {
	st, err := os.Stat(path)
	if err == nil && st.Mode()&os.ModeSetuid == 0 {
		return fmt.Sprintf(" (%s is not setuid root: reinstall the uidmap package)", path)
	}
	return fmt.Sprintf(" (check that %s gives your user these host IDs)", subfile)
}
