package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/user"
	"text/tabwriter"
	"time"

	"hako/internal/container"
	"hako/internal/state"
)

func init() { register("list", "list containers", listCmd) }

// ownerName shows a uid as its user name, as runc's list does.
func ownerName(uid string) string {
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return uid
}

func listCmd(g *globals, args []string) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	format := fs.String("format", "table", "table or json")
	fs.StringVar(format, "f", "table", "table or json")
	quiet := fs.Bool("quiet", false, "print only IDs")
	fs.BoolVar(quiet, "q", false, "print only IDs")
	if _, err := parse(fs, args, 0, 0, "no arguments"); err != nil {
		return err
	}
	rt := g.runtime()
	ids, err := state.List(rt.Root)
	if err != nil {
		return err
	}
	var all []container.OCIState
	for _, id := range ids {
		c, err := rt.View(id)
		if err != nil {
			continue // deleted meanwhile
		}
		all = append(all, c.OCI())
		c.Close()
	}
	switch {
	case *quiet:
		for _, s := range all {
			fmt.Println(s.ID)
		}
	case *format == "json":
		if all == nil {
			all = []container.OCIState{}
		}
		return json.NewEncoder(os.Stdout).Encode(all)
	case *format == "table":
		w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
		fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
		for _, s := range all {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), ownerName(s.Owner))
		}
		return w.Flush()
	default:
		return fmt.Errorf("list: unknown format %q (table or json)", *format)
	}
	return nil
}
