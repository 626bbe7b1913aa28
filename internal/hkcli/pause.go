package hkcli

import (
	"fmt"

	"github.com/spf13/cobra"

	"hako/internal/box"
)

func init() {
	for _, v := range []struct{ name, short string }{
		{"pause", "Pause all processes within one or more containers (cgroup freezer)"},
		{"unpause", "Unpause all processes within one or more containers"},
	} {
		register(func(env *Env) *cobra.Command {
			return &cobra.Command{
				Use:   v.name + " CONTAINER [CONTAINER...]",
				Short: v.short,
				Args:  cobra.MinimumNArgs(1),
				RunE: func(cmd *cobra.Command, args []string) error {
					return eachContainer(env, args, cmd, func(b *boxes, c *box.Container) error {
						st := b.status(c)
						if v.name == "pause" && st.State != "running" || v.name == "unpause" && st.State != "paused" {
							return fmt.Errorf("container %s is %s, not %s", c.Name, st.State, map[string]string{"pause": "running", "unpause": "paused"}[v.name])
						}
						rc, err := b.runtime().Load(c.ID)
						if err != nil {
							return err
						}
						defer rc.Close()
						if v.name == "pause" {
							return rc.Pause()
						}
						return rc.Resume()
					})
				},
			}
		})
	}
}
