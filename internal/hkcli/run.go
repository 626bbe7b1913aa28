package hkcli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func init() {
	register(func(env *Env) *cobra.Command {
		var f createFlags
		var detach bool
		c := &cobra.Command{
			Use:   "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
			Short: "Create and run a new container from an image",
			Long: `Create and run a new container from an image (pulled first if the store has
none by that name). In the foreground hk waits for it, passes signals on,
and exits with its status; with -d a small monitor (hako-mon) keeps it and
its log. Networking: a bridge as root (the default, or hk network create),
slirp4netns or pasta for an ordinary user (slirp4netns is the default; none,
with a warning, where /dev/net/tun is not usable), none (only lo), host,
container:NAME.`,
			Args: cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				b, err := openBoxes(env)
				if err != nil {
					return err
				}
				c, err := b.create(args[0], &f, cmd.Flags(), args[1:])
				if err != nil {
					return err
				}
				if !detach {
					err := b.startForeground(c)
					var ce codedError
					if errors.As(err, &ce) {
						// It never ran: a failed run leaves nothing.
						b.remove(c)
					}
					return err
				}
				if err := b.startDetached(c); err != nil {
					b.remove(c)
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), c.ID)
				return nil
			},
		}
		c.Flags().BoolVarP(&detach, "detach", "d", false, "run in the background and print the container's ID")
		f.define(c.Flags())
		return c
	})
}
