package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/console"
	"hako/internal/container"
)

func init() { register("exec", "run another process in a running container", execCmd) }

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

type execFlags struct {
	process, cwd, user, label, apparmor string
	consoleSocket, pidFile              string
	tty, detach, noNewPrivs             bool
	preserveFDs                         int
	env, caps, gids                     stringList
	cgroups                             stringList
}

func (f *execFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.process, "process", "", "runtime-spec process JSON file (replaces the command and flags)")
	fs.StringVar(&f.process, "p", "", "shorthand for --process")
	fs.StringVar(&f.cwd, "cwd", "", "working directory in the container")
	fs.StringVar(&f.user, "user", "", "uid[:gid] to run as")
	fs.StringVar(&f.user, "u", "", "shorthand for --user")
	fs.Var(&f.gids, "additional-gids", "supplementary gid (repeatable)")
	fs.Var(&f.gids, "g", "shorthand for --additional-gids")
	fs.Var(&f.env, "env", "KEY=value to add (repeatable)")
	fs.Var(&f.env, "e", "shorthand for --env")
	fs.Var(&f.caps, "cap", "capability to add (repeatable; never inheritable)")
	fs.Var(&f.caps, "c", "shorthand for --cap")
	fs.BoolVar(&f.tty, "tty", false, "allocate a pty")
	fs.BoolVar(&f.tty, "t", false, "shorthand for --tty")
	fs.BoolVar(&f.detach, "detach", false, "do not wait for the process")
	fs.BoolVar(&f.detach, "d", false, "shorthand for --detach")
	fs.BoolVar(&f.noNewPrivs, "no-new-privs", false, "set no_new_privs")
	fs.StringVar(&f.consoleSocket, "console-socket", "", "unix socket to send the pty master to")
	fs.StringVar(&f.pidFile, "pid-file", "", "write the process's pid here")
	fs.IntVar(&f.preserveFDs, "preserve-fds", 0, "pass this many fds from 3 on")
	fs.StringVar(&f.label, "process-label", "", "SELinux label for the process (default: the container's)")
	fs.StringVar(&f.apparmor, "apparmor", "", "AppArmor profile for the process (default: the container's)")
	fs.Bool("ignore-paused", false, "accepted for runc compatibility")
	fs.Var(&f.cgroups, "cgroup", "run in this existing sub-cgroup of the container's: PATH, or CONTROLLER[,...]:PATH on cgroup v1 (repeatable)")
}

func execCmd(g *globals, args []string) error {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	var f execFlags
	f.define(fs)
	// Flags end at the container ID: what follows is the command and its own flags.
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return fmt.Errorf("exec: expected ID [COMMAND [ARG...]]")
	}
	c, err := g.runtime().Load(rest[0])
	if err != nil {
		return err
	}
	proc, err := f.build(c.State.Spec.Process, rest[1:])
	if err != nil {
		c.Close()
		return err
	}
	o := container.ExecOpts{Process: proc, ConsoleSocket: f.consoleSocket, PidFile: f.pidFile, PreserveFDs: f.preserveFDs, Cgroups: f.cgroups}
	return runExec(c, o, f.detach)
}

// runExec starts the process; in the foreground it relays the terminal,
// forwards signals and returns the process's exit status.
func runExec(c *container.Container, o container.ExecOpts, detach bool) error {
	var relay *console.Relay
	if !detach && o.ConsoleSocket == "" && o.Process.Terminal {
		var err error
		if relay, err = console.NewRelay(); err != nil {
			return err
		}
		defer relay.Close()
		o.Console = relay.Remote
	}
	sigs := make(chan os.Signal, 32)
	if !detach {
		notifyFatal(sigs)
	}
	p, err := c.Exec(o)
	c.Close()
	if err != nil || detach {
		return err
	}
	notifyRest(sigs)
	if err := relay.Start(true); err != nil {
		return err
	}
	var reaped atomic.Bool
	go forward(sigs, p.Pid, relay, &reaped)
	ws, err := p.Wait()
	reaped.Store(true)
	if err != nil {
		return err
	}
	relay.Finish()
	return exitError(exitStatus(ws))
}

// build makes the process to run: from --process, or from the container's
// own process with the command and flags laid over it, as runc does.
func (f *execFlags) build(base *specs.Process, args []string) (*specs.Process, error) {
	if f.process != "" {
		return readProcess(f.process)
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("exec: no command given")
	}
	p := *base
	p.Args, p.Terminal = args, f.tty
	p.Env = append(append([]string{}, base.Env...), f.env...)
	if f.cwd != "" {
		p.Cwd = f.cwd
	}
	if f.noNewPrivs {
		p.NoNewPrivileges = true
	}
	if f.apparmor != "" {
		p.ApparmorProfile = f.apparmor
	}
	if f.label != "" {
		p.SelinuxLabel = f.label
	}
	if err := f.applyUser(&p); err != nil {
		return nil, err
	}
	p.Capabilities = addCaps(base.Capabilities, f.caps)
	return &p, nil
}

func readProcess(path string) (*specs.Process, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("exec --process: %w", err)
	}
	var p specs.Process
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("exec --process %s: %w", path, err)
	}
	return &p, nil
}

func (f *execFlags) applyUser(p *specs.Process) error {
	if f.user != "" {
		u, g, hasG := strings.Cut(f.user, ":")
		uid, err := strconv.ParseUint(u, 10, 32)
		if err != nil {
			return fmt.Errorf("exec --user %q: want uid[:gid] as numbers", f.user)
		}
		p.User.UID = uint32(uid)
		if hasG {
			gid, err := strconv.ParseUint(g, 10, 32)
			if err != nil {
				return fmt.Errorf("exec --user %q: want uid[:gid] as numbers", f.user)
			}
			p.User.GID = uint32(gid)
		}
	}
	for _, s := range f.gids {
		gid, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return fmt.Errorf("exec --additional-gids %q: not a number", s)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(gid))
	}
	return nil
}

// addCaps adds --cap capabilities to every set but inheritable: a process
// given an inheritable capability could pass it across execve of a program
// with file capabilities (CVE-2022-29162).
func addCaps(base *specs.LinuxCapabilities, add []string) *specs.LinuxCapabilities {
	out := &specs.LinuxCapabilities{}
	if base != nil {
		c := *base
		out = &c
	}
	if len(add) == 0 {
		return out
	}
	cp := func(l []string) []string { return append(append([]string{}, l...), add...) }
	out.Bounding, out.Effective = cp(out.Bounding), cp(out.Effective)
	out.Permitted, out.Ambient = cp(out.Permitted), cp(out.Ambient)
	return out
}
