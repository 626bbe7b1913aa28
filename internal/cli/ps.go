package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

func init() { register("ps", "list a container's processes (ps arguments after --)", psCmd) }

// psCmd is runc's `ps`: json is the host pids in the container's cgroup;
// table is the host's `ps` output cut down to those pids.
func psCmd(g *globals, args []string) error {
	own, psArgs := args, []string{"-ef"}
	if i := slices.Index(args, "--"); i >= 0 {
		own = args[:i]
		if len(args) > i+1 {
			psArgs = args[i+1:]
		}
	}
	fs := flag.NewFlagSet("ps", flag.ContinueOnError)
	format := fs.String("format", "table", "table or json")
	fs.StringVar(format, "f", "table", "shorthand for --format")
	pos, err := parse(fs, own, 1, 1, "one container ID (ps arguments go after --)")
	if err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("ps --format %q: want table or json", *format)
	}
	c, err := g.runtime().View(pos[0]) // only reads: no lock to hold up kill or delete
	if err != nil {
		return err
	}
	defer c.Close()
	pids, err := c.Pids()
	if err != nil {
		return err
	}
	if *format == "json" {
		return json.NewEncoder(os.Stdout).Encode(append([]int{}, pids...)) // [] rather than null
	}
	out, err := exec.Command("ps", psArgs...).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("ps %s: %w: %s", strings.Join(psArgs, " "), err, strings.TrimSpace(string(exit.Stderr)))
	}
	if err != nil {
		return fmt.Errorf("ps %s: %w", strings.Join(psArgs, " "), err)
	}
	table, err := filterPS(string(out), pids)
	if err != nil {
		return err
	}
	fmt.Print(table)
	return nil
}

// filterPS keeps ps's header line and the lines whose PID column is one of
// pids. The host's pids are the ones to match: `ps` runs on the host.
func filterPS(out string, pids []int) (string, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	col := slices.Index(strings.Fields(lines[0]), "PID")
	if col < 0 {
		return "", fmt.Errorf("ps: no PID column in the header %q: give ps arguments that print one", lines[0])
	}
	var b strings.Builder
	b.WriteString(lines[0] + "\n")
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if col >= len(f) {
			continue
		}
		if p, err := strconv.Atoi(f[col]); err == nil && slices.Contains(pids, p) {
			b.WriteString(l + "\n")
		}
	}
	return b.String(), nil
}
