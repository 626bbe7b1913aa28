package hkcli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"hako/internal/box"
	"hako/internal/console"
	"hako/internal/container"
	"hako/internal/monitor"
)

// readyToStart mounts the root again (after create, or in this command's
// mount namespace when rootless) and forgets a previous run: its runtime
// state and exit file.
func (b *boxes) readyToStart(c *box.Container) error {
	if st := b.status(c); st.State == "running" || st.State == "paused" {
		return fmt.Errorf("container %s is already %s", c.Name, st.State)
	}
	if err := b.deleteRuntime(c.ID); err != nil {
		return err
	}
	if err := b.republish(c); err != nil {
		return err
	}
	for _, f := range []string{b.exitFile(c), b.pidFile(c)} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	_, err := box.MountRootfs(b.log, b.dir(c), c.Layers, box.Driver(b.dir(c)), b.priv.InUserNS, c.Opts.Rm)
	return err
}

// startDetached starts the container under a monitor (hako-mon) that
// outlives this command.
func (b *boxes) startDetached(c *box.Container) error {
	unlock, err := b.lock(c)
	if err != nil {
		return err
	}
	defer unlock()
	if st := b.status(c); st.State == "running" || st.State == "paused" {
		return nil // Docker: starting a running container is no error
	}
	if err := b.readyToStart(c); err != nil {
		return err
	}
	exe, create, err := b.self("_create", c.ID)
	if err != nil {
		return err
	}
	_, onExit, _ := b.self("_exited", c.ID)
	errLog, err := os.OpenFile(b.dir(c)+"/monitor.err", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer errLog.Close()
	err = monitor.Start(b.log, monitor.Opts{ExitFile: b.exitFile(c), LogFile: b.logFile(c), PidFile: b.pidFile(c),
		Stdin: c.Opts.Interactive, TTY: c.Opts.TTY, Create: append([]string{exe}, create...), OnExit: append([]string{exe}, onExit...), Stderr: errLog},
		os.Stderr)
	if err != nil {
		return codedError{err, exitCodeOf(err)}
	}
	return nil
}

// createInRuntime is the runtime's create and start of the container, in
// this process, with stdio (nil: this process's own), or with a terminal
// whose master goes to sock (a connected socket: hako-mon's) or to relay
// (this process copies it).
func (b *boxes) createInRuntime(c *box.Container, stdio [3]*os.File, sock *os.File, relay *console.Relay) (*container.Container, error) {
	o := container.CreateOpts{ID: c.ID, Bundle: b.dir(c), PidFile: b.pidFile(c), NoFifo: true, Stdio: stdio, Console: sock}
	if relay != nil {
		o.Console = relay.Remote
	}
	if err := b.netUp(c); err != nil {
		return nil, err
	}
	rc, err := b.runtime().Create(o)
	if err != nil {
		b.netDown(c)
		return nil, err
	}
	if relay != nil {
		err = relay.Start(true)
	}
	if err == nil {
		err = rc.Start()
	}
	if err != nil {
		rc.Delete(true)
		rc.Close()
		b.netDown(c)
		return nil, err
	}
	rc.Close()
	return rc, nil
}

// startForeground runs the container as this command's child: its output
// goes to hk's stdout and stderr and to its log, signals hk gets are
// passed on, and the container's exit status is returned (ExitError).
func (b *boxes) startForeground(c *box.Container) error {
	unlock, err := b.lock(c)
	if err != nil {
		return err
	}
	if err := b.readyToStart(c); err != nil {
		unlock()
		return codedError{err, 125}
	}
	logf, err := os.OpenFile(b.logFile(c), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		unlock()
		return err
	}
	defer logf.Close()
	var stdio [3]*os.File
	var relay *console.Relay
	var copies sync.WaitGroup
	if c.Opts.TTY {
		relay, err = console.NewRelay()
	} else {
		stdio, err = b.pipes(c, logf, &copies)
	}
	if err != nil {
		unlock()
		return err
	}
	if relay != nil {
		defer relay.Close()
	}
	rc, err := b.createInRuntime(c, stdio, nil, relay)
	unlock()
	for _, f := range stdio[1:] {
		f.Close() // the container has its own copies now
	}
	if stdio[0] != nil && stdio[0] != os.Stdin {
		stdio[0].Close()
	}
	if err != nil {
		copies.Wait()
		b.finishExit(c.ID)
		return codedError{err, exitCodeOf(err)}
	}
	stop := forwardSignals(rc.State.Pid)
	ws, werr := rc.Process.Wait()
	stop()
	copies.Wait()
	relay.Finish()
	code := exitStatus(ws)
	if werr != nil {
		code = -1
	}
	if err := monitor.WriteExit(b.exitFile(c), code, time.Now()); err != nil {
		return err
	}
	if err := b.finishExit(c.ID); err != nil {
		return err
	}
	return ExitError(code)
}

// pipes are the container's stdout and stderr (copied to hk's and to the
// log) and its stdin (hk's with -i, else /dev/null).
func (b *boxes) pipes(c *box.Container, logf io.Writer, copies *sync.WaitGroup) ([3]*os.File, error) {
	var stdio [3]*os.File
	if c.Opts.Interactive {
		stdio[0] = os.Stdin
	} else {
		null, err := os.Open(os.DevNull)
		if err != nil {
			return stdio, err
		}
		stdio[0] = null
	}
	lo, le := monitor.NewWriters(logf)
	for i, dst := range []io.Writer{io.MultiWriter(os.Stdout, lo), io.MultiWriter(os.Stderr, le)} {
		r, w, err := os.Pipe()
		if err != nil {
			return stdio, err
		}
		stdio[i+1] = w
		copies.Add(1)
		go func() {
			defer copies.Done()
			io.Copy(dst, r)
			r.Close()
		}()
	}
	return stdio, nil
}

func exitStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

func init() {
	register(func(env *Env) *cobra.Command {
		var attach bool
		c := &cobra.Command{
			Use:   "start [OPTIONS] CONTAINER [CONTAINER...]",
			Short: "Start one or more stopped containers",
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				b, err := openBoxes(env)
				if err != nil {
					return err
				}
				if err := b.enterUserNS(); err != nil {
					return err
				}
				if attach && len(args) > 1 {
					return errors.New("you cannot start and attach multiple containers at once")
				}
				var failed []string
				for _, ref := range args {
					c, err := b.get(ref)
					if err == nil && attach {
						return b.startForeground(c)
					}
					if err == nil {
						err = b.startDetached(c)
					}
					if err != nil {
						fmt.Fprintln(os.Stderr, "hk:", err)
						failed = append(failed, ref)
						continue
					}
					fmt.Fprintln(cmd.OutOrStdout(), ref)
				}
				if len(failed) > 0 {
					return fmt.Errorf("failed to start containers: %s", strings.Join(failed, ", "))
				}
				return nil
			},
		}
		c.Flags().BoolVarP(&attach, "attach", "a", false, "attach STDOUT/STDERR and forward signals")
		return c
	})
}
