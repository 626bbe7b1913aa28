package cli

import "flag"

func init() { register("start", "start a created container", startCmd) }

func startCmd(g *globals, args []string) error {
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	pos, err := parse(fs, args, 1, 1, "one container ID")
	if err != nil {
		return err
	}
	c, err := g.runtime().Load(pos[0])
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Start()
}
