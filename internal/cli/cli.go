package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"hako/internal/container"
	"hako/internal/trace"
	"hako/internal/userns"
)

// Version is set at build time (-ldflags -X).
var Version = "0.1.0-dev"

// globals are the flags before the verb.
type globals struct {
	root      string
	logFile   string
	logFormat string
	debug     bool
	trace     bool
	systemd   bool
	logOut    io.Writer
	// priv is who hako is (userns.Detect); rootless is the decision made
	// from it and --rootless.
	priv     userns.Privilege
	rootless bool
}

type command struct {
	usage string
	run   func(g *globals, args []string) error
}

var commands = map[string]command{}

func register(name, usage string, run func(g *globals, args []string) error) {
	commands[name] = command{usage: usage, run: run}
}

// Main runs the CLI and returns the exit status.
func Main(args []string) int {
	// Whatever fds hako's caller left open without close-on-exec must not
	// reach a container: Go passes only the fds it is told to, but an fd
	// that is not close-on-exec survives every fork+exec. A leaked host
	// directory fd is how CVE-2024-21626 escaped (an args or cwd through
	// /proc/self/fd/N resolves before execve closes anything). Fds to pass on
	// (--preserve-fds) are handed over explicitly, which clears the flag.
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	g := &globals{priv: userns.Detect()}
	fs := flag.NewFlagSet("hako", flag.ContinueOnError)
	fs.StringVar(&g.root, "root", g.priv.StateRoot(os.LookupEnv), "state directory")
	fs.StringVar(&g.logFile, "log", "", "log file (errors and --debug lines)")
	fs.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&g.debug, "debug", false, "debug logging")
	fs.BoolVar(&g.trace, "trace", false, "print every kernel-visible step with its duration to stderr")
	version := fs.Bool("version", false, "print the version")
	fs.BoolVar(version, "v", false, "print the version")
	fs.BoolVar(&g.systemd, "systemd-cgroup", false, "put containers in systemd scope units (cgroupsPath \"slice:prefix:name\"), as Docker, podman and Kubernetes do on systemd hosts")
	rootless := fs.String("rootless", "auto", "auto, true or false: ignore cgroups this user may not create when no limit needs them (auto: unless real root)")
	fs.String("criu", "", "accepted for runc compatibility")
	fs.Usage = func() { usage(fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *version {
		fmt.Printf("hako version %s\nspec: %s\n", Version, specVersion())
		return 0
	}
	var err error
	if g.rootless, err = g.priv.Decide(*rootless); err != nil {
		fmt.Fprintln(os.Stderr, "hako:", err)
		return 2
	}
	rest := fs.Args()
	if len(rest) == 0 {
		usage(fs)
		return 2
	}
	cmd, ok := commands[rest[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "hako: unknown command %q (see hako --help)\n", rest[0])
		return 2
	}
	if g.root == "" && rest[0] != "spec" && rest[0] != "features" {
		fmt.Fprintf(os.Stderr, "hako: running as uid %d without XDG_RUNTIME_DIR: set it (usually /run/user/%d) or pass --root DIR for hako's state\n", os.Geteuid(), os.Geteuid())
		return 1
	}
	if err := g.openLog(); err != nil {
		fmt.Fprintln(os.Stderr, "hako:", err)
		return 1
	}
	err = cmd.run(g, rest[1:])
	var ex exitError
	if errors.As(err, &ex) {
		return int(ex)
	}
	if err != nil {
		g.fatal(g.stateRootHint(err))
		return 1
	}
	return 0
}

// stateRootHint explains a state root hako may not write to. Under rootless
// podman hako is uid 0, but of podman's user namespace, and /run belongs to
// the host's root there.
func (g *globals) stateRootHint(err error) error {
	var pe *os.PathError
	if !g.priv.Rootless() || !errors.Is(err, os.ErrPermission) || !errors.As(err, &pe) || !strings.HasPrefix(pe.Path, g.root) {
		return err
	}
	who := fmt.Sprintf("uid %d", g.priv.EUID)
	if g.priv.InUserNS {
		who += " of a user namespace, not the host's root"
	}
	return fmt.Errorf("%w (hako runs rootless, as %s: give it a state root of its own: set XDG_RUNTIME_DIR, hako then uses $XDG_RUNTIME_DIR/hako, or pass --root DIR)", err, who)
}

// exitError carries an exit status (foreground run) without an error text.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func usage(fs *flag.FlagSet) {
	fmt.Fprintf(os.Stderr, "usage: hako [global flags] <command> [flags] [args]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-9s %s\n", n, commands[n].usage)
	}
	fmt.Fprintf(os.Stderr, "\nglobal flags:\n")
	fs.PrintDefaults()
}

func (g *globals) openLog() error {
	g.logOut = io.Discard
	if g.logFile == "" {
		return nil
	}
	f, err := os.OpenFile(g.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	g.logOut = f
	return nil
}

// logf writes one log line in the chosen format (runc's JSON keys: level,
// msg, time; containerd reads the last error line from this file).
func (g *globals) logf(level, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if g.logFormat == "json" {
		b, _ := json.Marshal(map[string]string{"level": level, "msg": msg, "time": time.Now().Format(time.RFC3339Nano)})
		fmt.Fprintln(g.logOut, string(b))
		return
	}
	fmt.Fprintf(g.logOut, "time=%q level=%s msg=%q\n", time.Now().Format(time.RFC3339Nano), level, msg)
}

// fatal reports a command's error once: to stderr and, if set, the log.
func (g *globals) fatal(err error) {
	g.logf("error", "%v", err)
	fmt.Fprintln(os.Stderr, "hako: "+err.Error())
}

func (g *globals) runtime() *container.Runtime {
	rt := &container.Runtime{Root: g.root, Warn: os.Stderr, Trace: g.trace || g.debug, SystemdCgroup: g.systemd,
		Rootless: g.rootless, InUserNS: g.priv.InUserNS}
	if g.trace {
		// `hako --trace run ... | head` must not die of SIGPIPE halfway
		// through building a container: a trace line to a closed pipe
		// fails (EPIPE) instead. Notify, unlike Ignore, is not inherited
		// by init and the program.
		signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	}
	var sinks []trace.Sink
	if g.trace {
		sinks = append(sinks, trace.Writer(os.Stderr))
	}
	if g.debug {
		// --debug: every step as a debug line in the log (--log), as runc
		// writes its debug messages there for containerd to collect.
		sinks = append(sinks, func(ev trace.Event) {
			g.logf("debug", "%s %s %s (%s)%s", ev.Who, ev.Step, ev.Operands, ev.Dur, errSuffix(ev.Err))
		})
	}
	if len(sinks) > 0 {
		rt.Log = trace.New("hako", func(ev trace.Event) {
			for _, s := range sinks {
				s(ev)
			}
		})
	}
	return rt
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return ": " + e
}

// parse parses a verb's flags, allowing flags after positional arguments
// (`hako delete ID --force`), and checks the positional count.
func parse(fs *flag.FlagSet, args []string, min, max int, what string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) < min || (max >= 0 && len(pos) > max) {
		return nil, fmt.Errorf("%s: expected %s, got %q", fs.Name(), what, strings.Join(pos, " "))
	}
	return pos, nil
}
