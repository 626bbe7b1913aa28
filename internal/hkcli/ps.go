package hkcli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"hako/internal/box"
)

func init() {
	register(func(env *Env) *cobra.Command {
		var all, quiet, noTrunc bool
		c := &cobra.Command{
			Use:     "ps [OPTIONS]",
			Aliases: []string{"container ls"},
			Short:   "List containers (running ones; -a: all)",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				b, err := openBoxes(env)
				if err != nil {
					return err
				}
				list, err := b.store.List()
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 3, ' ', 0)
				if !quiet {
					fmt.Fprintln(w, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tNAMES")
				}
				for _, c := range list {
					st := b.status(c)
					if !all && st.State != "running" && st.State != "paused" {
						continue
					}
					id := box.Short(c.ID)
					if noTrunc {
						id = c.ID
					}
					if quiet {
						fmt.Fprintln(w, id)
						continue
					}
					command := strings.Join(c.Args, " ")
					if !noTrunc && len(command) > 20 {
						command = command[:19] + "…"
					}
					fmt.Fprintf(w, "%s\t%s\t%q\t%s ago\t%s\t%s\n", id, c.Image, command, human(time.Since(c.Created)), statusText(c, st), c.Name)
				}
				return w.Flush()
			},
		}
		c.Flags().BoolVarP(&all, "all", "a", false, "show all containers (default: running ones)")
		c.Flags().BoolVarP(&quiet, "quiet", "q", false, "only display container IDs")
		c.Flags().BoolVar(&noTrunc, "no-trunc", false, "don't truncate output")
		return c
	})
}

// statusText is ps's STATUS column, Docker's wording.
func statusText(c *box.Container, st Status) string {
	switch st.State {
	case "created":
		return "Created"
	case "running":
		return "Up " + human(time.Since(c.StartedAt))
	case "paused":
		return "Up " + human(time.Since(c.StartedAt)) + " (Paused)"
	}
	if st.Finished.IsZero() {
		return fmt.Sprintf("Exited (%d)", st.ExitCode)
	}
	return fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, human(time.Since(st.Finished)))
}

// human is Docker's rough duration: "Less than a second", "5 seconds",
// "3 minutes", "2 hours", "4 days".
func human(d time.Duration) string {
	switch s := d.Seconds(); {
	case s < 1:
		return "Less than a second"
	case s < 60:
		return plural(int(s), "second")
	case d.Minutes() < 60:
		return plural(int(d.Minutes()), "minute")
	case d.Hours() < 48:
		return plural(int(d.Hours()), "hour")
	}
	return plural(int(d.Hours()/24), "day")
}

func plural(n int, unit string) string {
	if n == 1 {
		if unit == "hour" {
			return "About an hour"
		}
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
