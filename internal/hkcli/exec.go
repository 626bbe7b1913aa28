package hkcli

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"hako/internal/box"
	"hako/internal/console"
	"hako/internal/container"
)

func init() {
	register(func(env *Env) *cobra.Command {
		var interactive, tty, detach bool
		var envs []string
		var user, workdir string
		c := &cobra.Command{
			Use:   "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
			Short: "Execute a command in a running container",
			Args:  cobra.MinimumNArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				b, err := openBoxes(env)
				if err != nil {
					return err
				}
				c, err := b.get(args[0])
				if err != nil {
					return err
				}
				if st := b.status(c); st.State != "running" {
					return fmt.Errorf("container %s is not running", box.Short(c.ID))
				}
				rc, err := b.runtime().Load(c.ID)
				if err != nil {
					return err
				}
				p := *rc.State.Spec.Process
				p.Args, p.Terminal = args[1:], tty
				p.Env = append(append([]string{}, p.Env...), envs...)
				if workdir != "" {
					p.Cwd = workdir
				}
				if user != "" {
					u, err := box.ResolveUserIn("/proc/"+strconv.Itoa(rc.State.Pid)+"/root", user)
					if err != nil {
						rc.Close()
						return err
					}
					p.User.UID, p.User.GID, p.User.AdditionalGids = u.UID, u.GID, u.Groups
					if u.UID != 0 {
						caps := *p.Capabilities
						caps.Effective, caps.Permitted = nil, nil
						p.Capabilities = &caps
					}
				}
				var relay *console.Relay
				if tty && !detach {
					if relay, err = console.NewRelay(); err != nil {
						rc.Close()
						return err
					}
					defer relay.Close()
				}
				o := container.ExecOpts{Process: &p}
				if relay != nil {
					o.Console = relay.Remote
				}
				if !interactive && !tty {
					// no stdin for the process: it reads /dev/null
					if null, err := os.Open(os.DevNull); err == nil {
						os.Stdin = null
					}
				}
				proc, err := rc.Exec(o)
				rc.Close()
				if err != nil {
					return codedError{err, exitCodeOf(err)}
				}
				if detach {
					return nil
				}
				if err := relay.Start(true); err != nil {
					return err
				}
				stop := forwardSignals(proc.Pid)
				ws, err := proc.Wait()
				stop()
				if err != nil {
					return err
				}
				relay.Finish()
				return ExitError(exitStatus(ws))
			},
		}
		f := c.Flags()
		f.SetInterspersed(false)
		f.BoolVarP(&interactive, "interactive", "i", false, "keep STDIN open")
		f.BoolVarP(&tty, "tty", "t", false, "allocate a pseudo-TTY")
		f.BoolVarP(&detach, "detach", "d", false, "run the command in the background")
		f.StringArrayVarP(&envs, "env", "e", nil, "set environment variables")
		f.StringVarP(&user, "user", "u", "", "user: NAME|UID[:GROUP|GID]")
		f.StringVarP(&workdir, "workdir", "w", "", "working directory inside the container")
		return c
	})
}
