package userns

import (
	"strings"
	"testing"
)

func TestInUserNS(t *testing.T) {
	for _, tc := range []struct {
		name, uidMap string
		want         bool
		bad          bool
	}{
		{"initial namespace", "         0          0 4294967295\n", false, false},
		{"rootless podman: 0 is the user, 1.. the subuid range", "         0       1002          1\n         1     165536      65536\n", true, false},
		{"single ID (unshare -r)", "         0       1002          1\n", true, false},
		{"root mapped to itself, not everything", "0 0 65536\n", true, false},
		{"identity map split in two lines", "0 0 1\n1 1 4294967294\n", true, false},
		{"not written yet", "", true, false},
		{"garbage", "zero 0 1\n", false, true},
		{"too few fields", "0 0\n", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := InUserNS(strings.NewReader(tc.uidMap))
			if (err != nil) != tc.bad || got != tc.want {
				t.Errorf("InUserNS(%q) = %v, %v; want %v, error %v", tc.uidMap, got, err, tc.want, tc.bad)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	realRoot, nsRoot, user := Privilege{EUID: 0}, Privilege{EUID: 0, InUserNS: true}, Privilege{EUID: 1002}
	for _, tc := range []struct {
		p    Privilege
		flag string
		want bool
		bad  bool
	}{
		{realRoot, "auto", false, false},
		{realRoot, "", false, false},
		{nsRoot, "auto", true, false},
		{nsRoot, "AUTO", true, false},
		{user, "auto", true, false},
		{user, "false", false, false},
		{realRoot, "true", true, false},
		{realRoot, "1", true, false},
		{nsRoot, "false", false, false},
		{user, "maybe", false, true},
	} {
		got, err := tc.p.Decide(tc.flag)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("%+v.Decide(%q) = %v, %v; want %v, error %v", tc.p, tc.flag, got, err, tc.want, tc.bad)
		}
	}
}

func TestStateRoot(t *testing.T) {
	realRoot, nsRoot, user := Privilege{EUID: 0}, Privilege{EUID: 0, InUserNS: true}, Privilege{EUID: 1002}
	env := func(kv ...string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			for _, e := range kv {
				if key, v, _ := strings.Cut(e, "="); key == k {
					return v, true
				}
			}
			return "", false
		}
	}
	xdg := "XDG_RUNTIME_DIR=/run/user/1002"
	for _, tc := range []struct {
		name string
		p    Privilege
		env  func(string) (string, bool)
		want string
	}{
		{"real root ignores XDG_RUNTIME_DIR (/run/user/0 from a login)", realRoot, env("XDG_RUNTIME_DIR=/run/user/0", "USER=root"), "/run/hako"},
		{"real root", realRoot, env(), "/run/hako"},
		{"user", user, env(xdg, "USER=u"), "/run/user/1002/hako"},
		{"user without XDG_RUNTIME_DIR", user, env("USER=u"), ""},
		{"rootless podman", nsRoot, env(xdg, "USER=u"), "/run/user/1002/hako"},
		{"rootless podman, USER unset", nsRoot, env(xdg), "/run/user/1002/hako"},
		{"root login in a container", nsRoot, env("XDG_RUNTIME_DIR=/run/user/0", "USER=root"), "/run/hako"},
		{"namespace root without XDG_RUNTIME_DIR", nsRoot, env("USER=u"), "/run/hako"},
	} {
		if got := tc.p.StateRoot(tc.env); got != tc.want {
			t.Errorf("%s: StateRoot = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestPrivilegeString(t *testing.T) {
	for p, want := range map[Privilege]string{
		{EUID: 0}:                 "uid 0 of the initial user namespace (real root)",
		{EUID: 0, InUserNS: true}: "uid 0 of a user namespace that is not the initial one",
		{EUID: 1002}:              "uid 1002",
	} {
		if got := p.String(); got != want {
			t.Errorf("%#v: %q, want %q", p, got, want)
		}
	}
}
