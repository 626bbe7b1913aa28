package hkcli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"hako/internal/image"
)

func init() { register(rmiCmd) }

func rmiCmd(env *Env) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "rmi [OPTIONS] IMAGE [IMAGE...]",
		Short: "Remove one or more images",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := ImageStoreRW(env)
			if err != nil {
				return err
			}
			defer s.Close()
			failed := 0
			for _, ref := range args {
				rm, err := s.Remove(ref, force)
				if err != nil {
					failed++
					fmt.Fprintln(os.Stderr, "hk: rmi:", imgErr(err, ref))
					continue
				}
				printRemoved(c.OutOrStdout(), rm, "Untagged: ", "Deleted: ")
			}
			if failed > 0 {
				return ExitError(1)
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "force removal of the image (untag an image a container uses)")
	c.Flags().Bool("no-prune", false, "do not delete untagged parents (hk keeps none)")
	return c
}

// imgErr words a store error for ref (the store's ErrNotFound already
// names it: "no such image: REF", Docker's words).
func imgErr(err error, ref string) error {
	if err != nil && !errors.Is(err, image.ErrNotFound) && !strings.Contains(err.Error(), ref) {
		return fmt.Errorf("%s: %w", ref, err)
	}
	return err
}

func printRemoved(w interface{ Write([]byte) (int, error) }, rm image.Removed, untagged, deleted string) {
	for _, n := range rm.Untagged {
		fmt.Fprintln(w, untagged+image.ShortRepo(n))
	}
	for _, id := range rm.Deleted {
		fmt.Fprintln(w, deleted+id)
	}
}
