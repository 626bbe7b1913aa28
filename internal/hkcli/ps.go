package hkcli

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"hako/internal/box"
)

func init() {
	register(func(env *Env) *cobra.Command {
		var all, quiet, noTrunc bool
		var format string
		c := &cobra.Command{
			Use:   "ps [OPTIONS]",
			Short: "List containers (running ones; -a: all)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				b, err := openBoxes(env)
				if err != nil {
					return err
				}
				if b.rootless() {
					b.sweepRootlessNet()
				}
				list, err := b.store.List()
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 3, ' ', 0)
				var rows []psRow
				if !quiet && format == "" {
					fmt.Fprintln(w, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
				}
				nets, _ := env.networks() // nil rootless: no ports
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
					ports := portsText(b.published(nets, c))
					command := strings.Join(c.Args, " ")
					if !noTrunc && len(command) > 20 {
						command = command[:19] + "…"
					}
					if format != "" {
						rows = append(rows, psRow{ID: id, Image: c.Image, Command: strconv.Quote(command), CreatedAt: c.Created.Format("2006-01-02 15:04:05 -0700 MST"),
							RunningFor: human(time.Since(c.Created)) + " ago", Status: statusText(c, st), State: st.State, Names: c.Name, Ports: ports})
						continue
					}
					fmt.Fprintf(w, "%s\t%s\t%q\t%s ago\t%s\t%s\t%s\n", id, c.Image, command, human(time.Since(c.Created)), statusText(c, st), ports, c.Name)
				}
				if format != "" {
					return formatRows(cmd.OutOrStdout(), rows, format)
				}
				return w.Flush()
			},
		}
		c.Flags().BoolVarP(&all, "all", "a", false, "show all containers (default: running ones)")
		c.Flags().BoolVarP(&quiet, "quiet", "q", false, "only display container IDs")
		c.Flags().BoolVar(&noTrunc, "no-trunc", false, "don't truncate output")
		c.Flags().StringVar(&format, "format", "", "format each container with a Go template ({{.ID}} {{.Names}} {{.Status}} {{.State}} {{.Image}} ...), or json")
		return c
	})
}

// psRow is one container as `ps --format` templates see it (Docker's
// field names).
type psRow struct {
	ID, Image, Command, CreatedAt, RunningFor, Status, State, Names, Ports string
}

// statusText is ps's STATUS column, Docker's wording.
func statusText(c *box.Container, st Status) string {
	switch st.State {
	case "created":
		return "Created"
	case "running":
		return "Up " + human(time.Since(st.Started))
	case "paused":
		return "Up " + human(time.Since(st.Started)) + " (Paused)"
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
