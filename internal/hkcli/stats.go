package hkcli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"hako/internal/box"
	"hako/internal/cgroups"
)

// sample is one reading of a container's cgroup counters.
type sample struct {
	at    time.Time
	stats *cgroups.Stats
}

func (b *boxes) sample(c *box.Container) (sample, error) {
	rc, err := b.runtime().View(c.ID)
	if err != nil {
		return sample{}, err
	}
	s, err := rc.Stats()
	return sample{time.Now(), s}, err
}

// statsRow is one line of docker stats: CPU % over the interval between
// two samples (100 % = one CPU busy), memory usage without the page cache,
// its limit (the host's memory when none) and share, block I/O, pids.
func statsRow(c *box.Container, prev, cur sample) []string {
	s := cur.stats
	cpu := 0.0
	if dt := cur.at.Sub(prev.at); dt > 0 && prev.stats != nil && s.CPU.Usage.Total >= prev.stats.CPU.Usage.Total {
		cpu = float64(s.CPU.Usage.Total-prev.stats.CPU.Usage.Total) / float64(dt.Nanoseconds()) * 100
	}
	usage := s.Memory.Usage.Usage
	if inactive, ok := s.Memory.Raw["total_inactive_file"]; ok && inactive < usage {
		usage -= inactive
	} else if inactive, ok := s.Memory.Raw["inactive_file"]; ok && inactive < usage {
		usage -= inactive
	}
	limit := s.Memory.Usage.Limit
	if host := hostMemory(); limit == 0 || limit > host {
		limit = host
	}
	memPct := 0.0
	if limit > 0 {
		memPct = float64(usage) / float64(limit) * 100
	}
	var rd, wr uint64
	for _, e := range s.Blkio.IoServiceBytesRecursive {
		switch strings.ToLower(e.Op) {
		case "read":
			rd += e.Value
		case "write":
			wr += e.Value
		}
	}
	return []string{box.Short(c.ID), c.Name, fmt.Sprintf("%.2f%%", cpu),
		binarySize(usage) + " / " + binarySize(limit), fmt.Sprintf("%.2f%%", memPct),
		"0B / 0B", decimalSize(rd) + " / " + decimalSize(wr), fmt.Sprint(s.Pids.Current)}
}

func hostMemory() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var kb uint64
	fmt.Sscanf(string(b), "MemTotal: %d kB", &kb)
	return kb * 1024
}

// binarySize is Docker's memory size: 1.5MiB.
func binarySize(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f, i := float64(n), 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}

// decimalSize is Docker's I/O size: 1.2MB.
func decimalSize(n uint64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	f, i := float64(n), 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.3g%s", f, units[i])
}

func init() {
	register(func(env *Env) *cobra.Command {
		var noStream, all bool
		c := &cobra.Command{
			Use:   "stats [OPTIONS] [CONTAINER...]",
			Short: "Display a live stream of containers' resource usage (from their cgroups)",
			RunE: func(cmd *cobra.Command, args []string) error {
				b, err := openBoxes(env)
				if err != nil {
					return err
				}
				ctrs, err := b.statsTargets(args, all)
				if err != nil {
					return err
				}
				prev := map[string]sample{}
				for _, c := range ctrs {
					if s, err := b.sample(c); err == nil {
						prev[c.ID] = s
					} else if len(args) > 0 {
						return fmt.Errorf("container %s: %w", c.Name, err)
					}
				}
				for {
					time.Sleep(500 * time.Millisecond)
					var buf strings.Builder
					w := tabwriter.NewWriter(&buf, 0, 4, 3, ' ', 0)
					fmt.Fprintln(w, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tNET I/O\tBLOCK I/O\tPIDS")
					for _, c := range ctrs {
						cur, err := b.sample(c)
						if err != nil {
							continue
						}
						fmt.Fprintln(w, strings.Join(statsRow(c, prev[c.ID], cur), "\t"))
						prev[c.ID] = cur
					}
					w.Flush()
					out := cmd.OutOrStdout()
					if !noStream {
						io.WriteString(out, "\033[2J\033[H") // clear the screen, as docker stats does
					}
					io.WriteString(out, buf.String())
					if noStream {
						return nil
					}
				}
			},
		}
		c.Flags().BoolVar(&noStream, "no-stream", false, "print the first result only")
		c.Flags().BoolVarP(&all, "all", "a", false, "show all containers (default: running ones)")
		return c
	})
}

func (b *boxes) statsTargets(refs []string, all bool) ([]*box.Container, error) {
	if len(refs) > 0 {
		var out []*box.Container
		for _, r := range refs {
			c, err := b.get(r)
			if err != nil {
				return nil, err
			}
			if st := b.status(c); st.State != "running" && st.State != "paused" {
				return nil, fmt.Errorf("container %s is not running", c.Name)
			}
			out = append(out, c)
		}
		return out, nil
	}
	list, err := b.store.List()
	var out []*box.Container
	for _, c := range list {
		if st := b.status(c); all || st.State == "running" || st.State == "paused" {
			out = append(out, c)
		}
	}
	return out, err
}
