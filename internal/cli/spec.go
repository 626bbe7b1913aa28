package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/spec"
	"hako/internal/userns"
)

func init() { register("spec", "write a default config.json into the bundle", specCmd) }

func specVersion() string { return specs.Version }

// rootlessSpec is runc's rootless template, plus (as podman does) the
// caller's subordinate ID ranges when /etc/subuid and /etc/subgid give it
// some and newuidmap is installed: then container IDs 1.. are usable
// (`chown` works inside) and devpts keeps gid=5, which is mapped.
func missingSubFiles(subu, subg []userns.Range) string {
	switch {
	case len(subu) == 0 && len(subg) == 0:
		return "/etc/subuid and /etc/subgid"
	case len(subu) == 0:
		return "/etc/subuid"
	}
	return "/etc/subgid"
}

func rootlessSpec(s *specs.Spec) error {
	uid, gid := uint32(os.Geteuid()), uint32(os.Getegid())
	spec.ToRootless(s, uid, gid)
	subu, err1 := userns.SubIDs("/etc/subuid")
	subg, err2 := userns.SubIDs("/etc/subgid")
	_, err3 := exec.LookPath("newuidmap")
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("spec --rootless: %w", err)
	}
	switch {
	case err3 != nil:
		fmt.Fprintln(os.Stderr, "hako: note: single-ID mapping, only uid 0 exists inside: newuidmap is not installed (Debian package uidmap) to map a subordinate range")
		return nil
	case len(subu) == 0 || len(subg) == 0:
		fmt.Fprintf(os.Stderr, "hako: note: single-ID mapping, only uid 0 exists inside: this user has no range in %s (add one: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER)\n",
			missingSubFiles(subu, subg))
		return nil
	}
	s.Linux.UIDMappings = userns.Mappings(uid, subu)
	s.Linux.GIDMappings = userns.Mappings(gid, subg)
	for i := range s.Mounts {
		if s.Mounts[i].Type == "devpts" {
			s.Mounts[i].Options = append(s.Mounts[i].Options, "gid=5")
		}
	}
	return nil
}

func specCmd(g *globals, args []string) error {
	fs := flag.NewFlagSet("spec", flag.ContinueOnError)
	bundle := fs.String("bundle", ".", "bundle directory")
	fs.StringVar(bundle, "b", ".", "bundle directory")
	rootless := fs.Bool("rootless", false, "a config for running as an unprivileged user")
	if _, err := parse(fs, args, 0, 0, "no arguments"); err != nil {
		return err
	}
	s := spec.Default()
	if *rootless {
		if err := rootlessSpec(s); err != nil {
			return err
		}
	}
	path := filepath.Join(*bundle, "config.json")
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists: remove it first", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	data, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o666)
}
