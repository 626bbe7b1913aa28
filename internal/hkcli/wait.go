package hkcli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// waitCode blocks until container ref has exited and its exit is
// recorded, and returns its code. A container removed meanwhile (--rm)
// gives the code its exit file last said.
func (b *boxes) waitCode(ref string) (int, error) {
	c, err := b.get(ref)
	if err != nil {
		return 0, err
	}
	last, lastSeen := -1, time.Time{}
	for {
		r, err := b.store.Get(c.ID)
		if err != nil {
			if lastSeen.IsZero() {
				return 0, fmt.Errorf("container %s was removed before it exited", ref)
			}
			return last, nil
		}
		st := b.status(r)
		if st.State == "exited" {
			if !st.Runtime {
				return st.ExitCode, nil
			}
			// Its monitor records it within moments; if the monitor
			// died instead, the exit file is the answer.
			if lastSeen.IsZero() {
				lastSeen = time.Now()
			}
			last = st.ExitCode
			if time.Since(lastSeen) > 3*time.Second {
				return last, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func init() {
	register(func(env *Env) *cobra.Command {
		return &cobra.Command{
			Use:   "wait CONTAINER [CONTAINER...]",
			Short: "Block until one or more containers stop, then print their exit codes",
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				b, err := openBoxes(env)
				if err != nil {
					return err
				}
				for _, ref := range args {
					code, err := b.waitCode(ref)
					if err != nil {
						return err
					}
					fmt.Fprintln(cmd.OutOrStdout(), code)
				}
				return nil
			},
		}
	})
}
