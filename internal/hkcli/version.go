package hkcli

import (
	"fmt"

	"github.com/spf13/cobra"

	"hako/internal/cli"
)

func init() {
	register(func(env *Env) *cobra.Command {
		return &cobra.Command{
			Use:   "version",
			Short: "Show hk's version",
			Args:  cobra.NoArgs,
			RunE: func(c *cobra.Command, args []string) error {
				fmt.Fprintf(c.OutOrStdout(), "hk (hako) version %s\n", cli.Version)
				return nil
			},
		}
	})
}
