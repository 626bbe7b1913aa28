package cli

import (
	"encoding/json"
	"flag"
	"os"
	"time"

	"hako/internal/container"
)

func init() {
	register("events", "print a container's resource usage and OOM kills as JSON lines", eventsCmd)
}

// eventsCmd is runc's `events`: stats every --interval plus an oom event per
// OOM kill until the container stops, or with --stats one stats event.
func eventsCmd(g *globals, args []string) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	once := fs.Bool("stats", false, "print one stats event and exit")
	interval := fs.Duration("interval", 5*time.Second, "time between stats events")
	pos, err := parse(fs, args, 1, 1, "one container ID")
	if err != nil {
		return err
	}
	c, err := g.runtime().View(pos[0]) // only reads: no lock to hold up kill or delete
	if err != nil {
		return err
	}
	defer c.Close()
	enc := json.NewEncoder(os.Stdout)
	emit := func(e container.Event) error { return enc.Encode(e) }
	if !*once {
		return c.Events(*interval, emit)
	}
	e, err := c.StatsEvent()
	if err != nil {
		return err
	}
	return emit(e)
}
