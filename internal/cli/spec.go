package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/spec"
)

func init() { register("spec", "write a default config.json into the bundle", specCmd) }

func specVersion() string { return specs.Version }

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
		spec.ToRootless(s, uint32(os.Geteuid()), uint32(os.Getegid()))
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
