package cli

import (
	"flag"

	"hako/internal/container"
)

func init() { register("create", "create a container (init waits for start)", createCmd) }

// createFlags are shared by create and run.
func createFlags(fs *flag.FlagSet, o *container.CreateOpts) {
	fs.StringVar(&o.Bundle, "bundle", ".", "bundle directory (holds config.json)")
	fs.StringVar(&o.Bundle, "b", ".", "bundle directory (holds config.json)")
	fs.StringVar(&o.PidFile, "pid-file", "", "write init's pid to this file")
	fs.StringVar(&o.ConsoleSocket, "console-socket", "", "unix socket to send the pty master to (terminal: true)")
	fs.BoolVar(&o.NoPivot, "no-pivot", false, "use MS_MOVE + chroot instead of pivot_root (for roots on ramfs)")
	fs.IntVar(&o.PreserveFDs, "preserve-fds", 0, "pass this many fds from 3 on to the container")
	fs.Bool("no-new-keyring", false, "accepted for runc compatibility (hako never creates a session keyring)")
}

func createCmd(g *globals, args []string) error {
	fs := flag.NewFlagSet("create", flag.ContinueOnError)
	var o container.CreateOpts
	createFlags(fs, &o)
	pos, err := parse(fs, args, 1, 1, "one container ID")
	if err != nil {
		return err
	}
	o.ID = pos[0]
	c, err := g.runtime().Create(o)
	if err != nil {
		return err
	}
	c.Close()
	return nil
}
