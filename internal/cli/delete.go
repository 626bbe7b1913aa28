package cli

import (
	"errors"
	"flag"

	"hako/internal/state"
)

func init() { register("delete", "delete a stopped container (--force: any)", deleteCmd) }

func deleteCmd(g *globals, args []string) error {
	fs := flag.NewFlagSet("delete", flag.ContinueOnError)
	force := fs.Bool("force", false, "kill the container first if it is running")
	fs.BoolVar(force, "f", false, "kill the container first if it is running")
	pos, err := parse(fs, args, 1, 1, "one container ID")
	if err != nil {
		return err
	}
	c, err := g.runtime().Load(pos[0])
	if errors.Is(err, state.ErrNotExist) && *force {
		// containerd and Docker send a second `delete --force` after every
		// container; the container being gone already is success.
		return nil
	}
	if err != nil {
		return err
	}
	return c.Delete(*force)
}
