package hkcli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"hako/internal/box"
)

func init() {
	register(func(env *Env) *cobra.Command {
		var force bool
		c := &cobra.Command{
			Use:   "rm [OPTIONS] CONTAINER [CONTAINER...]",
			Short: "Remove one or more containers (-f: running ones too, killed first)",
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				b, err := openBoxes(env)
				if err != nil {
					return err
				}
				// Killing happens as the user (who owns its containers'
				// namespaces); removing as uid 0 of the subuid namespace
				// (the files are the container's). Rootless, Enter runs
				// this command again inside, where nothing runs any more.
				for _, ref := range args {
					if c, err := b.get(ref); err == nil && force {
						if st := b.status(c); st.State == "running" || st.State == "paused" {
							b.kill9(c)
						}
					}
				}
				if err := b.enterUserNS(); err != nil {
					return err
				}
				return eachContainer(env, args, cmd, func(b *boxes, c *box.Container) error {
					if st := b.status(c); st.State == "running" || st.State == "paused" {
						if !force {
							return fmt.Errorf("cannot remove container %q: container is %s: stop the container before removing or force remove", c.Name, st.State)
						}
						b.kill9(c)
					}
					return b.remove(c)
				})
			},
		}
		c.Flags().BoolVarP(&force, "force", "f", false, "force the removal of a running container (uses SIGKILL)")
		return c
	})
}

// kill9 kills the container and waits (briefly) for its monitor to see it.
func (b *boxes) kill9(c *box.Container) {
	if rc, err := b.runtime().Load(c.ID); err == nil {
		if st := b.status(c); st.State == "paused" {
			rc.Resume()
		}
		rc.Kill(unix.SIGKILL, true)
		rc.Close()
	}
	b.waitExit(c, 5*time.Second)
}
