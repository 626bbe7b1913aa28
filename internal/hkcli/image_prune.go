package hkcli

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func imagePruneCmd(env *Env) *cobra.Command {
	var all, force bool
	c := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused images",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			// First (rootless: re-executed in the user namespace), so that
			// only the process that does the work asks.
			s, err := ImageStoreRW(env)
			if err != nil {
				return err
			}
			defer s.Close()
			if !force {
				what := "all dangling images"
				if all {
					what = "all images without at least one container associated to them"
				}
				fmt.Fprintf(c.OutOrStdout(), "WARNING! This will remove %s.\nAre you sure you want to continue? [y/N] ", what)
				line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
				if a := strings.TrimSpace(line); a != "y" && a != "Y" {
					fmt.Fprintln(c.OutOrStdout())
					return nil
				}
			}
			rm, err := s.Prune(all)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			if len(rm.Untagged)+len(rm.Deleted) > 0 {
				fmt.Fprintln(w, "Deleted Images:")
				printRemoved(w, rm, "untagged: ", "deleted: ")
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "Total reclaimed space: %s\n", humanSize(rm.Reclaimed))
			return nil
		},
	}
	c.Flags().BoolVarP(&all, "all", "a", false, "remove all unused images, not just dangling ones")
	c.Flags().BoolVarP(&force, "force", "f", false, "do not prompt for confirmation")
	return c
}
