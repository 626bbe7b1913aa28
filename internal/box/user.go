package box

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// ExecUser is a resolved `-u`: IDs, supplementary groups and home.
type ExecUser struct {
	UID, GID uint32
	Groups   []uint32
	Home     string
}

type passwdEntry struct {
	name     string
	uid, gid uint32
	home     string
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// parsePasswd reads /etc/passwd lines (name:x:uid:gid:gecos:home:shell);
// malformed lines are skipped, as libc does.
func parsePasswd(r io.Reader) []passwdEntry {
	var out []passwdEntry
	for _, f := range colonLines(r, 7) {
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 == nil && err2 == nil {
			out = append(out, passwdEntry{f[0], uint32(uid), uint32(gid), f[5]})
		}
	}
	return out
}

// parseGroup reads /etc/group lines (name:x:gid:member,member).
func parseGroup(r io.Reader) []groupEntry {
	var out []groupEntry
	for _, f := range colonLines(r, 4) {
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			continue
		}
		var members []string
		if f[3] != "" {
			members = strings.Split(f[3], ",")
		}
		out = append(out, groupEntry{f[0], uint32(gid), members})
	}
	return out
}

func colonLines(r io.Reader, n int) [][]string {
	var out [][]string
	s := bufio.NewScanner(r)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if f := strings.Split(line, ":"); len(f) >= n {
			out = append(out, f)
		}
	}
	return out
}

// ResolveUser resolves Docker's -u (user, uid, user:group, uid:gid; ""
// is root) against the passwd and group files, as Docker does: a name
// must exist, a number need not (its group is then 0), and the user's
// supplementary groups come from the group file.
func ResolveUser(spec string, passwd, group io.Reader) (ExecUser, error) {
	u := ExecUser{Home: "/"}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	users := parsePasswd(passwd)
	groups := parseGroup(group)
	if userPart == "" {
		userPart = "0"
	}
	var name string
	if n, err := strconv.ParseUint(userPart, 10, 32); err == nil {
		u.UID = uint32(n)
		for _, e := range users {
			if e.uid == u.UID {
				u.GID, u.Home, name = e.gid, e.home, e.name
				break
			}
		}
	} else {
		found := false
		for _, e := range users {
			if e.name == userPart {
				u.UID, u.GID, u.Home, name, found = e.uid, e.gid, e.home, e.name, true
				break
			}
		}
		if !found {
			return u, fmt.Errorf("unable to find user %s: no matching entries in passwd file", userPart)
		}
	}
	if hasGroup {
		gid, err := lookupGroup(groupPart, groups)
		if err != nil {
			return u, err
		}
		u.GID = gid
	}
	if name != "" {
		for _, g := range groups {
			for _, m := range g.members {
				if m == name && g.gid != u.GID {
					u.Groups = append(u.Groups, g.gid)
				}
			}
		}
	}
	return u, nil
}

func lookupGroup(s string, groups []groupEntry) (uint32, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(n), nil
	}
	for _, g := range groups {
		if g.name == s {
			return g.gid, nil
		}
	}
	return 0, fmt.Errorf("unable to find group %s: no matching entries in group file", s)
}

// ResolveUserIn resolves spec against rootfs's /etc/passwd and
// /etc/group (resolved inside rootfs, never outside it; missing files
// read as empty).
func ResolveUserIn(rootfs, spec string) (ExecUser, error) {
	passwd, err := openIn(rootfs, "/etc/passwd")
	if err != nil {
		return ExecUser{}, err
	}
	defer passwd.Close()
	group, err := openIn(rootfs, "/etc/group")
	if err != nil {
		return ExecUser{}, err
	}
	defer group.Close()
	return ResolveUser(spec, passwd, group)
}

// openIn opens name inside root; a file that is not there reads empty.
func openIn(root, name string) (io.ReadCloser, error) {
	p, err := securejoin.SecureJoin(root, name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return io.NopCloser(strings.NewReader("")), nil
	}
	return f, err
}
