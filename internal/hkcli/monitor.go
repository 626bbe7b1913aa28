package hkcli

import (
	"os"
	"syscall"

	"github.com/spf13/cobra"

	"hako/internal/box"
	"hako/internal/monitor"
	"hako/internal/trace"
)

// The hidden verbs hako-mon runs (internal/monitor): they are hk, so the
// runtime and the store are the same code as in every other verb.
func init() {
	// _create is hako-mon's child: the runtime's create and start, in
	// this process, with the monitor's pipes as the container's stdio;
	// the answer goes to fd 3 (monitor.Report), and so do its trace and
	// warnings, which `hk run -d` prints: nothing of hk's own may land in
	// the container's log.
	register(func(env *Env) *cobra.Command {
		return &cobra.Command{
			Use: "_create ID", Hidden: true, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				report := os.NewFile(3, "report")
				syscall.CloseOnExec(3)
				b, err := openBoxes(env)
				if err == nil {
					b.warn = report
					if env.Trace {
						b.log = trace.New("hk", trace.Writer(report))
						b.store.Log = b.log
					}
					var c *box.Container
					if c, err = b.get(args[0]); err == nil {
						var sock *os.File
						if c.Opts.TTY {
							sock = os.NewFile(4, "console")
							syscall.CloseOnExec(4)
						}
						_, err = b.createInRuntime(c, [3]*os.File{os.Stdin, os.Stdout, os.Stderr}, sock, nil)
					}
				}
				code := 0
				if err != nil {
					code = exitCodeOf(err)
				}
				monitor.Report(report, err, code)
				report.Close()
				if err != nil {
					return ExitError(1) // reported: Main must print nothing
				}
				return nil
			},
		}
	})
	// _exited is what hako-mon runs once init has exited.
	register(func(env *Env) *cobra.Command {
		return &cobra.Command{
			Use: "_exited ID", Hidden: true, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				b, err := openBoxes(env)
				if err != nil {
					return err
				}
				return b.finishExit(args[0])
			},
		}
	})
}
