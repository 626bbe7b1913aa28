package hkcli

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func init() {
	register(func(env *Env) *cobra.Command {
		return &cobra.Command{
			Use:   "top CONTAINER",
			Short: "Display the running processes of a container (host view: UID, PID, PPID as the host sees them)",
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
				if st := b.status(c); st.State != "running" && st.State != "paused" {
					return fmt.Errorf("container %s is not running", c.Name)
				}
				rc, err := b.runtime().View(c.ID)
				if err != nil {
					return err
				}
				pids, err := rc.Pids()
				if err != nil || len(pids) == 0 {
					pids = []int{rc.State.Pid} // no cgroup to list (rootless): init
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 3, ' ', 0)
				fmt.Fprintln(w, "UID\tPID\tPPID\tSTAT\tCMD")
				for _, pid := range pids {
					if p, ok := procInfo(pid); ok {
						fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", p.uid, pid, p.ppid, p.state, p.cmd)
					}
				}
				return w.Flush()
			},
		}
	})
}

type proc struct{ uid, ppid, state, cmd string }

// procInfo reads a process's owner, parent, state and command line from
// /proc (false: it is gone).
func procInfo(pid int) (proc, bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return proc{}, false
	}
	var p proc
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		switch {
		case k == "Uid" && len(f) > 0:
			p.uid = f[0]
		case k == "PPid" && len(f) > 0:
			p.ppid = f[0]
		case k == "State" && len(f) > 0:
			p.state = f[0]
		}
	}
	cmdline, _ := os.ReadFile(dir + "/cmdline")
	p.cmd = strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
	return p, true
}
