package hkcli

import (
	"github.com/spf13/cobra"
)

func init() { register(tagCmd) }

func tagCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Short: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := ImageStore(env)
			if err != nil {
				return err
			}
			defer s.Close()
			_, err = s.Tag(args[0], args[1])
			return imgErr(err, args[0])
		},
	}
}
