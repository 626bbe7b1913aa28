package box

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/spec"
)

// dockerSeccomp is moby's default profile as the engine hands it to the
// runtime on amd64 for the default capabilities (the same file
// internal/seccomp's tests compile).
//
//go:embed seccomp-default.json
var dockerSeccomp []byte

// DefaultCaps are Docker's default capabilities (moby
// oci/caps/defaults.go).
var DefaultCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}

// withCaps: Docker's default set, then --cap-drop and --cap-add ("ALL"
// for every one). A non-root process gets them only in its bounding set,
// as Docker gives them (an exec'd setuid binary may still use them).
func withCaps(c *Container) SpecOpt {
	return func(s *specs.Spec) error {
		caps, err := capSet(c.Opts.CapAdd, c.Opts.CapDrop)
		if err != nil {
			return err
		}
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps}
		if s.Process.User.UID == 0 {
			s.Process.Capabilities.Effective = caps
			s.Process.Capabilities.Permitted = caps
		}
		return nil
	}
}

func capSet(add, drop []string) ([]string, error) {
	norm := func(n string) (string, error) {
		n = strings.ToUpper(n)
		if n == "ALL" {
			return n, nil
		}
		if !strings.HasPrefix(n, "CAP_") {
			n = "CAP_" + n
		}
		if _, err := spec.CapValue(n); err != nil {
			return "", fmt.Errorf("invalid capability %q", n)
		}
		return n, nil
	}
	set := map[string]bool{}
	for _, c := range DefaultCaps {
		set[c] = true
	}
	for _, d := range drop {
		n, err := norm(d)
		if err != nil {
			return nil, err
		}
		if n == "ALL" {
			set = map[string]bool{}
		}
		delete(set, n)
	}
	for _, a := range add {
		n, err := norm(a)
		if err != nil {
			return nil, err
		}
		if n == "ALL" {
			for _, name := range spec.CapNames() {
				set[name] = true
			}
			continue
		}
		set[n] = true
	}
	var out []string
	for _, name := range spec.CapNames() {
		if set[name] {
			out = append(out, name)
		}
	}
	return out, nil
}

// withSecurityOpts: Docker's default seccomp profile unless
// seccomp=unconfined or seccomp=FILE; no-new-privileges.
func withSecurityOpts(c *Container) SpecOpt {
	return func(s *specs.Spec) error {
		profile := dockerSeccomp
		for _, o := range c.Opts.SecurityOpt {
			k, v, _ := strings.Cut(o, "=")
			if k == "seccomp" && strings.Contains(o, ":") && !strings.Contains(o, "=") {
				k, v, _ = strings.Cut(o, ":")
			}
			switch {
			case o == "no-new-privileges" || k == "no-new-privileges" && (v == "true" || v == ""):
				s.Process.NoNewPrivileges = true
			case k == "no-new-privileges" && v == "false":
			case k == "seccomp" && v == "unconfined":
				profile = nil
			case k == "seccomp":
				b, err := os.ReadFile(v)
				if err != nil {
					return fmt.Errorf("opening seccomp profile (%s) failed: %w", v, err)
				}
				profile = b
			default:
				return fmt.Errorf("invalid --security-opt %q: hk knows no-new-privileges and seccomp=unconfined|FILE", o)
			}
		}
		if profile == nil {
			return nil
		}
		sc, err := parseSeccomp(profile)
		if err != nil {
			return err
		}
		s.Linux.Seccomp = sc
		return nil
	}
}

// parseSeccomp reads a profile in the OCI form, or in Docker's (the same
// fields plus archMap and per-rule includes/excludes): a Docker rule with
// conditions is left out (hk does not evaluate them), so such a profile
// is at most stricter than Docker would make it, never looser.
func parseSeccomp(b []byte) (*specs.LinuxSeccomp, error) {
	var raw struct {
		specs.LinuxSeccomp
		ArchMap []struct {
			Arch specs.Arch   `json:"architecture"`
			Sub  []specs.Arch `json:"subArchitectures"`
		} `json:"archMap"`
		Syscalls []struct {
			specs.LinuxSyscall
			Includes json.RawMessage `json:"includes"`
			Excludes json.RawMessage `json:"excludes"`
		} `json:"syscalls"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("decoding seccomp profile: %w", err)
	}
	sc := raw.LinuxSeccomp
	sc.Syscalls = nil
	for _, r := range raw.Syscalls {
		if isEmptyCond(r.Includes) && isEmptyCond(r.Excludes) {
			sc.Syscalls = append(sc.Syscalls, r.LinuxSyscall)
		}
	}
	if len(sc.Architectures) == 0 {
		for _, a := range raw.ArchMap {
			if a.Arch == specs.ArchX86_64 {
				sc.Architectures = append([]specs.Arch{a.Arch}, a.Sub...)
			}
		}
	}
	return &sc, nil
}

func isEmptyCond(m json.RawMessage) bool {
	s := strings.TrimSpace(string(m))
	return s == "" || s == "null" || s == "{}"
}
