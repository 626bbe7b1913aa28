package cli

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"hako/internal/console"
	"hako/internal/container"
)

func init() { register("run", "create and start a container; wait for it unless -d", runCmd) }

func runCmd(g *globals, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var o container.CreateOpts
	createFlags(fs, &o)
	detach := fs.Bool("detach", false, "start the container and return")
	fs.BoolVar(detach, "d", false, "start the container and return")
	keep := fs.Bool("keep", false, "keep the stopped container (do not delete it after it exits)")
	pos, err := parse(fs, args, 1, 1, "one container ID")
	if err != nil {
		return err
	}
	o.ID = pos[0]
	// run starts what it creates at once: init need not wait for start
	// on exec.fifo (saves the fifo and a round trip).
	o.NoFifo = true
	rt := g.runtime()
	if *detach {
		return runDetached(rt, o)
	}
	return runForeground(rt, o, *keep)
}

func runDetached(rt *container.Runtime, o container.CreateOpts) error {
	c, err := rt.Create(o)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Start(); err != nil {
		c.Delete(true)
		return err
	}
	return nil
}

// runForeground runs the container as hako's child: signals hako receives
// go to the container, and hako exits with the container's status (128+N
// when a signal ended it), then deletes it unless keep.
func runForeground(rt *container.Runtime, o container.CreateOpts, keep bool) error {
	var relay *console.Relay
	if o.ConsoleSocket == "" {
		var err error
		if relay, err = console.NewRelay(); err != nil {
			return err
		}
		defer relay.Close()
		o.Console = relay.Remote
	}
	sigs := make(chan os.Signal, 32)
	notifyFatal(sigs)
	c, err := rt.Create(o)
	if err != nil {
		return err
	}
	proc := c.Process
	if err := relay.Start(c.State.Spec.Process.Terminal); err != nil {
		c.Delete(true)
		return err
	}
	var reaped atomic.Bool
	go forward(sigs, proc.Pid, relay, &reaped)
	err = c.Start()
	c.Close()
	if err != nil {
		cleanup(rt, o.ID)
		return err
	}
	notifyRest(sigs)
	ws, err := proc.Wait()
	reaped.Store(true)
	if err != nil {
		return err
	}
	rt.Log.Note("exited", container.StatusString(ws))
	relay.Finish()
	reportOOM(rt, o.ID, ws)
	if !keep && c.Relock() == nil { // fails if someone deleted it meanwhile
		c.Delete(true)
	}
	return exitError(exitStatus(ws))
}

// reportOOM says plainly when the kernel's OOM killer ended the container,
// which otherwise looks like any other SIGKILL (exit 137).
func reportOOM(rt *container.Runtime, id string, ws syscall.WaitStatus) {
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		return
	}
	c, err := rt.Load(id)
	if err != nil {
		return
	}
	defer c.Close()
	if c.OOMKills() == 0 {
		return
	}
	msg := "hako: container " + id + " was killed by the OOM killer"
	if l := c.MemoryLimit(); l > 0 {
		msg += fmt.Sprintf(": memory limit %s", humanBytes(l))
	}
	fmt.Fprintln(os.Stderr, msg)
}

// humanBytes prints 16777216 as "16 MiB".
func humanBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && n%1024 == 0 && i < len(units)-1 {
		n /= 1024
		i++
	}
	return fmt.Sprintf("%d %s", n, units[i])
}

func cleanup(rt *container.Runtime, id string) {
	if c, err := rt.Load(id); err == nil {
		c.Delete(true)
	}
}

func exitStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// notifyFatal makes hako catch the signals that end a process, before a
// foreground run or exec makes anything: hako must not die of them with a
// container half made. notifyRest adds the other forwarded ones once the
// container's process runs (it overlaps with the program). Each signal
// enabled costs a round trip to the Go runtime's signal thread (two thread
// wake-ups, ~40 us: 12 of them took 0.6 ms of every `run`), and enabling
// them from a goroutine instead left the scheduler to interleave it with
// the start path (measured: up to a timer-slack's delay on `exec`). There
// is no signal.Stop: it costs the same round trips again, and hako exits
// right after (forward stops passing signals on once the process is
// reaped). Between the two calls, SIGUSR1, SIGUSR2 and SIGALRM end hako
// and the job-control signals stop it, as for any program still starting.
func notifyFatal(sigs chan os.Signal) {
	signal.Notify(sigs, unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM)
}

func notifyRest(sigs chan os.Signal) {
	signal.Notify(sigs, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH, unix.SIGCONT, unix.SIGALRM,
		unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU)
}

// forward passes every signal on to the container's init, except SIGCHLD
// (ours) and SIGWINCH, which resizes the terminal instead. SIGURG is the Go
// runtime's own preemption signal.
// Once reaped tells it to stop: the pid may be anyone's after that.
func forward(sigs chan os.Signal, pid int, relay *console.Relay, reaped *atomic.Bool) {
	for s := range sigs {
		if reaped.Load() {
			return
		}
		sig := s.(syscall.Signal)
		switch sig {
		case unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE:
			continue
		case unix.SIGWINCH:
			relay.Resize()
			continue
		}
		unix.Kill(pid, sig)
	}
}
