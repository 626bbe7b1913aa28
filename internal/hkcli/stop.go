package hkcli

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"hako/internal/box"
	"hako/internal/container"
)

// signal sends sig to container c's init (Docker's kill: init only).
func (b *boxes) signal(c *box.Container, sig unix.Signal) error {
	if st := b.status(c); st.State != "running" && st.State != "paused" {
		return fmt.Errorf("cannot kill container: %s: container %s is not running", c.Name, box.Short(c.ID))
	}
	rc, err := b.runtime().Load(c.ID)
	if err != nil {
		return err
	}
	defer rc.Close()
	return rc.Kill(sig, false)
}

// stop sends the stop signal, waits up to timeout, then SIGKILL, and
// waits for the monitor to record the exit.
func (b *boxes) stop(c *box.Container, timeout time.Duration, sigName string) error {
	st := b.status(c)
	if st.State != "running" && st.State != "paused" {
		return nil // Docker: stopping a stopped container is fine
	}
	sig, err := parseSignal(sigName)
	if err != nil {
		return err
	}
	if st.State == "paused" {
		if rc, err := b.runtime().Load(c.ID); err == nil {
			rc.Resume()
			rc.Close()
		}
	}
	if err := b.signal(c, sig); err != nil && !errors.Is(err, container.ErrState) {
		return err
	}
	if b.waitExit(c, timeout) {
		return nil
	}
	if err := b.signal(c, unix.SIGKILL); err != nil && !strings.Contains(err.Error(), "not running") {
		return err
	}
	if !b.waitExit(c, 10*time.Second) {
		return fmt.Errorf("container %s did not exit after SIGKILL", c.Name)
	}
	return nil
}

// waitExit waits until the container is no longer running and its exit
// is recorded: by its monitor's _exited (which also unmounts its root, so
// a start must not begin before), or, if the monitor is gone, its exit
// file for a second.
func (b *boxes) waitExit(c *box.Container, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	var exitSeen time.Time
	for {
		r, err := b.store.Get(c.ID)
		if err != nil {
			return true // removed (--rm)
		}
		st := b.status(r)
		if !st.Runtime && st.State != "running" {
			return true // _exited is done, or it never ran
		}
		if st.State == "exited" {
			if exitSeen.IsZero() {
				exitSeen = time.Now()
			}
			if time.Since(exitSeen) > time.Second {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func init() {
	register(func(env *Env) *cobra.Command {
		var timeout int
		var sigName string
		c := &cobra.Command{
			Use:   "stop [OPTIONS] CONTAINER [CONTAINER...]",
			Short: "Stop one or more running containers (the stop signal, then SIGKILL after -t seconds)",
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return eachContainer(env, args, cmd, func(b *boxes, c *box.Container) error {
					t := timeout
					if !cmd.Flags().Changed("time") {
						t = c.Opts.StopTimeout
					}
					s := sigName
					if s == "" {
						s = c.StopSignal()
					}
					return b.stop(c, time.Duration(t)*time.Second, s)
				})
			},
		}
		c.Flags().IntVarP(&timeout, "time", "t", 10, "seconds to wait before killing the container")
		c.Flags().StringVarP(&sigName, "signal", "s", "", "signal to send (default: the container's stop signal)")
		return c
	})
	register(func(env *Env) *cobra.Command {
		var sigName string
		c := &cobra.Command{
			Use:   "kill [OPTIONS] CONTAINER [CONTAINER...]",
			Short: "Kill one or more running containers (SIGKILL unless -s)",
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				sig, err := parseSignal(sigName)
				if err != nil {
					return err
				}
				return eachContainer(env, args, cmd, func(b *boxes, c *box.Container) error { return b.signal(c, sig) })
			},
		}
		c.Flags().StringVarP(&sigName, "signal", "s", "KILL", "signal to send")
		return c
	})
	register(func(env *Env) *cobra.Command {
		var timeout int
		c := &cobra.Command{
			Use:   "restart [OPTIONS] CONTAINER [CONTAINER...]",
			Short: "Restart one or more containers",
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return eachContainer(env, args, cmd, func(b *boxes, c *box.Container) error {
					if err := b.stop(c, time.Duration(timeout)*time.Second, c.StopSignal()); err != nil {
						return err
					}
					if err := b.enterUserNS(); err != nil {
						return err
					}
					c, err := b.get(c.ID) // stop changed its record
					if err != nil {
						return err
					}
					return b.startDetached(c)
				})
			},
		}
		c.Flags().IntVarP(&timeout, "time", "t", 10, "seconds to wait before killing the container")
		return c
	})
}

// eachContainer runs fn on every container named, printing each name
// that succeeded (Docker's output) and every error; it fails if any did.
func eachContainer(env *Env, refs []string, cmd *cobra.Command, fn func(*boxes, *box.Container) error) error {
	b, err := openBoxes(env)
	if err != nil {
		return err
	}
	var failed int
	var last error
	for _, ref := range refs {
		c, err := b.get(ref)
		if err == nil {
			err = fn(b, c)
		}
		if err != nil {
			if len(refs) > 1 {
				fmt.Fprintln(os.Stderr, "hk:", err)
			}
			failed++
			last = err
			continue
		}
		fmt.Fprintln(cmd.OutOrStdout(), ref)
	}
	if failed == 1 && len(refs) == 1 {
		return last
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d containers failed", failed, len(refs))
	}
	return nil
}
