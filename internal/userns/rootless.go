package userns

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"hako/internal/rawfile"
)

// Privilege is what hako can tell about its own standing, read once per
// command: every rootless decision (state root, cgroups, device nodes)
// derives from it, as runc's do (main.go shouldHonorXDGRuntimeDir,
// rootless_linux.go shouldUseRootlessCgroupManager).
type Privilege struct {
	EUID int
	// InUserNS: hako runs in a user namespace other than the initial one,
	// e.g. rootless podman's, where it is uid 0 but no more privileged on
	// the host than the user who made the namespace.
	InUserNS bool
}

// Detect reads hako's privilege from the live process. A uid_map that
// cannot be read or parsed counts as the initial namespace, as in runc.
func Detect() Privilege {
	p := Privilege{EUID: os.Geteuid()}
	// rawfile: os.Open registers the fd with the runtime's poller (six
	// syscalls and a poller thread), and this runs in every command.
	if f, err := rawfile.Open("/proc/self/uid_map", os.O_RDONLY); err == nil {
		p.InUserNS, _ = InUserNS(f)
		f.Close()
	}
	return p
}

// InUserNS reports whether a /proc/PID/uid_map text is that of a user
// namespace other than the initial one. The initial namespace maps every
// uid to itself, the single line "0 0 4294967295" (user_namespaces(7));
// any other map, an empty one included (a namespace whose map is not
// written yet), belongs to a namespace made by someone.
func InUserNS(uidMap io.Reader) (bool, error) {
	sc := bufio.NewScanner(uidMap)
	var lines [][]string
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 {
			if len(f) != 3 {
				return false, fmt.Errorf("parse uid_map line %q: want 3 fields", sc.Text())
			}
			for _, n := range f {
				if _, err := strconv.ParseUint(n, 10, 32); err != nil {
					return false, fmt.Errorf("parse uid_map line %q: %w", sc.Text(), err)
				}
			}
			lines = append(lines, f)
		}
	}
	if err := sc.Err(); err != nil {
		return false, err
	}
	initial := len(lines) == 1 && lines[0][0] == "0" && lines[0][1] == "0" && lines[0][2] == "4294967295"
	return !initial, nil
}

// Rootless is runc's guess: hako is rootless unless it is real root, that
// is uid 0 in the initial user namespace. Root of any other namespace can
// neither make cgroups under the host's root-owned directories nor write
// under /run.
func (p Privilege) Rootless() bool { return p.EUID != 0 || p.InUserNS }

// String says who hako is, for `hako features` and errors.
func (p Privilege) String() string {
	switch {
	case p.EUID != 0:
		return fmt.Sprintf("uid %d", p.EUID)
	case p.InUserNS:
		return "uid 0 of a user namespace that is not the initial one"
	}
	return "uid 0 of the initial user namespace (real root)"
}

// Decide applies the --rootless flag ("auto", "true" or "false", or any
// spelling strconv.ParseBool takes) to the guess.
func (p Privilege) Decide(flag string) (bool, error) {
	if flag == "" || strings.EqualFold(flag, "auto") {
		return p.Rootless(), nil
	}
	b, err := strconv.ParseBool(flag)
	if err != nil {
		return false, fmt.Errorf("--rootless %q: want auto, true or false", flag)
	}
	return b, nil
}

// StateRoot is the default --root, by runc's rule: $XDG_RUNTIME_DIR/hako
// for a user, and for root of a user namespace unless $USER is root (a
// root login inside a container keeps /run); /run/hako for real root. It
// is "" for a user without XDG_RUNTIME_DIR: there is no directory hako
// could guess, and the caller says what to set.
func (p Privilege) StateRoot(getenv func(string) (string, bool)) string {
	xdg, _ := getenv("XDG_RUNTIME_DIR")
	honor := p.EUID != 0
	if p.EUID == 0 && p.InUserNS {
		user, set := getenv("USER")
		honor = !set || user != "root"
	}
	switch {
	case honor && xdg != "":
		return xdg + "/hako"
	case p.EUID == 0:
		return "/run/hako"
	}
	return ""
}
