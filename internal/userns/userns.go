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
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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
		return fmt.Errorf("%s not found in $PATH: multi-range ID mappings for an unprivileged user need it (install the uidmap package), or map only your own uid and gid (size 1)", name)
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

// helperHint guesses why newuidmap refused: it is neither setuid root nor
// given CAP_SETUID by a file capability (Fedora ships it that way), or the
// ranges are not the caller's in subfile.
func helperHint(path, subfile string) string {
	if !privileged(path) {
		return fmt.Sprintf(" (%s is neither setuid root nor has file capabilities, so the kernel refuses its write: use the one from the uidmap package, mode -rwsr-xr-x owned by root)", path)
	}
	ranges, err := SubIDs(subfile)
	switch {
	case err != nil:
		return fmt.Sprintf(" (check that %s gives your user these host IDs: %v)", subfile, err)
	case len(ranges) == 0:
		return fmt.Sprintf(" (%s gives your user no range: ask root for one (usermod --add-subuids/--add-subgids FIRST-LAST USER), or map only your own ID with size 1)", subfile)
	}
	var own []string
	for _, r := range ranges {
		own = append(own, fmt.Sprintf("%d-%d", r.Start, uint64(r.Start)+uint64(r.Count)-1))
	}
	return fmt.Sprintf(" (%s gives your user only host IDs %s: map onto those, as hako spec --rootless does)", subfile, strings.Join(own, ", "))
}

// privileged reports whether the helper at path can write maps: setuid
// root, or a security.capability xattr. When unsure it says yes, so the
// hint does not blame the helper wrongly.
func privileged(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return true
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && st.Mode()&os.ModeSetuid != 0 && sys.Uid == 0 {
		return true
	}
	n, err := unix.Getxattr(path, "security.capability", nil)
	return err == nil && n > 0
}
