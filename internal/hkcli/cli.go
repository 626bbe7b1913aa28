package hkcli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"hako/internal/hkuserns"
	"hako/internal/rootlessnet"
)

// Env is what every verb shares: the global flags, resolved.
type Env struct {
	// Root holds images, containers' metadata and writable layers:
	// /var/lib/hako as root, $XDG_DATA_HOME/hako (~/.local/share/hako)
	// for an ordinary user.
	Root string
	// RunRoot holds what lives only until reboot: the runtime's state of
	// hk's containers and their monitors' sockets: /run/hk as root,
	// $XDG_RUNTIME_DIR/hk for an ordinary user.
	RunRoot string
	Trace   bool // --trace: every kernel-visible step, timed, on stderr
	Debug   bool
}

// verbs are the constructors of the top-level commands, added by each
// verb's file.
var verbs []func(*Env) *cobra.Command

func register(f func(*Env) *cobra.Command) { verbs = append(verbs, f) }

// Register adds a verb from another package: the payload's verbs
// (Delegated), registered by the packages cmd/hk links.
func Register(f func(*Env) *cobra.Command) { register(f) }

// Delegated are the verbs that live in the payload (cmd/hk, embedded in
// hako and run from a sealed memfd: internal/hkexec) because their
// libraries (registry client, image formats, digests, progress bars) cost
// every process that links them ~3 ms at start-up. In hako the verb is a
// stand-in that hands the whole command line over; in the payload it is
// the verb itself.
var Delegated = []string{"pull", "push", "login", "logout", "load", "save", "import"}

// Payload runs the payload with this command line; set by cmd/hako
// (hkexec.Exec). Nil in the payload itself.
var Payload func(args []string) error

// ExitError carries a command's exit status without an error text (the
// container's own status, as `docker run` exits with it).
type ExitError int

func (e ExitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// Main runs hk with args (without the program name) and returns the exit
// status: 0, the container's status for run/start -a/wait, 125 for an
// error of hk itself (Docker's convention), 2 for bad usage.
func Main(args []string) int {
	if len(args) > 0 && args[0] == rootlessnet.ForwarderVerb {
		// A rootless container's port forwarder (rootlessnet starts it):
		// no flags, no cobra.
		return rootlessnet.ForwarderMain(args[1:])
	}
	env := &Env{}
	root := &cobra.Command{
		Use:           "hk",
		Short:         "hk: images and containers, docker-like, no daemon (hako's front end)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	dataRoot, runRoot := defaultRoots()
	f := root.PersistentFlags()
	f.StringVar(&env.Root, "root", dataRoot, "storage root: images, containers, volumes")
	f.StringVar(&env.RunRoot, "runroot", runRoot, "run-time state root (containers' runtime state, monitors)")
	f.BoolVar(&env.Trace, "trace", false, "print every kernel-visible step with its duration to stderr")
	f.BoolVarP(&env.Debug, "debug", "D", false, "debug output")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	for _, v := range verbs {
		root.AddCommand(v(env))
	}
	addDelegates(root, args)
	root.SetArgs(args)
	err := root.Execute()
	var ex ExitError
	var ue usageError
	var ce codedError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ex):
		return int(ex)
	case errors.As(err, &ce):
		fmt.Fprintln(os.Stderr, "hk:", err)
		return ce.code
	case errors.As(err, &ue), strings.HasPrefix(err.Error(), "unknown command "):
		// cobra's own usage errors (an unknown verb) are plain errors.
		fmt.Fprintf(os.Stderr, "hk: %v\nSee 'hk --help'.\n", err)
		return 2
	default:
		fmt.Fprintln(os.Stderr, "hk:", err)
		return 125
	}
}

// usageError is bad usage (an unknown flag, a missing argument): exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// defaultRoots are the storage and run roots: the system's as root, the
// user's own otherwise (podman's layout, under hako's names).
func defaultRoots() (data, run string) {
	// Inside hkuserns a rootless command is uid 0 too: still the user's.
	if os.Geteuid() == 0 && !hkuserns.Inside() {
		return "/var/lib/hako", "/run/hk"
	}
	data = os.Getenv("XDG_DATA_HOME")
	if data == "" {
		if home, err := os.UserHomeDir(); err == nil {
			data = filepath.Join(home, ".local", "share")
		}
	}
	if data != "" {
		data = filepath.Join(data, "hako")
	}
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		run = filepath.Join(x, "hk")
	}
	return data, run
}

// addDelegates adds a stand-in for each Delegated verb the binary does
// not have itself: it runs the payload with the whole command line, global
// flags included, which parses it again.
func addDelegates(root *cobra.Command, args []string) {
	if Payload == nil {
		return
	}
	have := map[string]bool{}
	for _, c := range root.Commands() {
		have[c.Name()] = true
	}
	for _, name := range Delegated {
		if have[name] {
			continue
		}
		root.AddCommand(&cobra.Command{
			Use:                name,
			Short:              "(see hk " + name + " --help)",
			DisableFlagParsing: true,
			RunE:               func(*cobra.Command, []string) error { return Payload(args) },
		})
	}
}
