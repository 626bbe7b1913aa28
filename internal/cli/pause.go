package cli

import (
	"flag"

	"hako/internal/container"
)

func init() {
	register("pause", "freeze every process of a container", func(g *globals, args []string) error {
		return withContainer(g, "pause", args, (*container.Container).Pause)
	})
	register("resume", "thaw a paused container", func(g *globals, args []string) error {
		return withContainer(g, "resume", args, (*container.Container).Resume)
	})
}

// withContainer runs fn on the one container named by args.
func withContainer(g *globals, verb string, args []string, fn func(*container.Container) error) error {
	fs := flag.NewFlagSet(verb, flag.ContinueOnError)
	pos, err := parse(fs, args, 1, 1, "one container ID")
	if err != nil {
		return err
	}
	c, err := g.runtime().Load(pos[0])
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c)
}
