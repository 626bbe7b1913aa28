package hkcli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"hako/internal/monitor"
)

func init() {
	register(func(env *Env) *cobra.Command {
		var follow, timestamps bool
		var tail string
		c := &cobra.Command{
			Use:   "logs [OPTIONS] CONTAINER",
			Short: "Fetch the logs of a container",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				b, err := openBoxes(env)
				if err != nil {
					return err
				}
				c, err := b.get(args[0])
				if err != nil {
					return err
				}
				n := -1
				if tail != "all" {
					if _, err := fmt.Sscanf(tail, "%d", &n); err != nil {
						return fmt.Errorf("invalid --tail %q: a number or all", tail)
					}
				}
				f, err := os.Open(b.logFile(c))
				if os.IsNotExist(err) {
					return nil
				}
				if err != nil {
					return err
				}
				defer f.Close()
				data, err := io.ReadAll(f)
				if err != nil {
					return err
				}
				// Only whole lines now: a torn last one is read again
				// when following.
				whole := data[:bytes.LastIndexByte(data, '\n')+1]
				recs, _ := monitor.ReadRecords(bytes.NewReader(whole))
				if n >= 0 && len(recs) > n {
					recs = recs[len(recs)-n:]
				}
				out := logOut{cmd.OutOrStdout(), cmd.ErrOrStderr(), timestamps}
				out.write(recs)
				if !follow {
					return nil
				}
				off := int64(len(whole))
				for {
					st := b.status(c)
					more, err := readFrom(b.logFile(c), off)
					if err != nil {
						return err
					}
					if k := bytes.LastIndexByte(more, '\n'); k >= 0 {
						recs, _ := monitor.ReadRecords(bytes.NewReader(more[:k+1]))
						out.write(recs)
						off += int64(k + 1)
					}
					if st.State != "running" && st.State != "paused" {
						return nil
					}
					time.Sleep(100 * time.Millisecond)
				}
			},
		}
		c.Flags().BoolVarP(&follow, "follow", "f", false, "follow log output")
		c.Flags().StringVarP(&tail, "tail", "n", "all", "number of lines to show from the end of the logs")
		c.Flags().BoolVarP(&timestamps, "timestamps", "t", false, "show timestamps")
		return c
	})
}

type logOut struct {
	stdout, stderr io.Writer
	ts             bool
}

// write prints records to the stream they came from, as docker logs does.
func (o logOut) write(recs []monitor.Record) {
	for _, r := range recs {
		w := o.stdout
		if r.Stream == "stderr" {
			w = o.stderr
		}
		if o.ts {
			fmt.Fprint(w, r.Time.Format(time.RFC3339Nano), " ")
		}
		nl := "\n"
		if !r.Full {
			nl = ""
		}
		fmt.Fprint(w, r.Text, nl)
	}
}

func readFrom(path string, off int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}
