package cli

import (
	"flag"

	"hako/internal/spec"
)

func init() { register("kill", "send a signal (default TERM) to a container", killCmd) }

func killCmd(g *globals, args []string) error {
	fs := flag.NewFlagSet("kill", flag.ContinueOnError)
	all := fs.Bool("all", false, "signal every process in the container")
	fs.BoolVar(all, "a", false, "signal every process in the container")
	pos, err := parse(fs, args, 1, 2, "ID [SIGNAL]")
	if err != nil {
		return err
	}
	name := "TERM"
	if len(pos) == 2 {
		name = pos[1]
	}
	sig, err := spec.ParseSignal(name)
	if err != nil {
		return err
	}
	c, err := g.runtime().Load(pos[0])
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Kill(sig, *all)
}
