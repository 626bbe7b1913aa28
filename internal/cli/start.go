package cli

import "hako/internal/container"

func init() {
	register("start", "start a created container", func(g *globals, args []string) error {
		return withContainer(g, "start", args, (*container.Container).Start)
	})
}
