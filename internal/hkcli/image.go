package hkcli

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"hako/internal/hkuserns"
	"hako/internal/image"
	"hako/internal/trace"
)

// The `image` group: Docker's management commands for images. Each verb
// that also has a top-level name (images, rmi, tag) is the same command.
func init() {
	register(func(env *Env) *cobra.Command {
		c := &cobra.Command{Use: "image", Short: "Manage images", Args: cobra.NoArgs,
			RunE: func(c *cobra.Command, _ []string) error { return c.Help() }}
		ls := imagesCmd(env)
		ls.Use, ls.Aliases = "ls [OPTIONS] [REPOSITORY[:TAG]]", []string{"list"}
		rm := rmiCmd(env)
		rm.Use, rm.Aliases = "rm [OPTIONS] IMAGE [IMAGE...]", []string{"remove"}
		c.AddCommand(ls, rm, tagCmd(env), imageInspectCmd(env), imagePruneCmd(env))
		for _, name := range []string{"pull", "push", "load", "save", "import"} {
			c.AddCommand(imageAlias(name))
		}
		return c
	})
}

// imageAlias is `image VERB`, Docker's other name of a top-level image
// verb: it runs that verb with the rest of the line. In bin/hako the
// top-level verb is the stand-in that hands the whole command line to the
// payload, whose own `image VERB` then runs the verb itself.
func imageAlias(name string) *cobra.Command {
	return &cobra.Command{
		Use:                name,
		Short:              "(see hk " + name + " --help)",
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			top, _, err := c.Root().Find([]string{name})
			if err != nil || top == c.Root() {
				return fmt.Errorf("hk %s: not in this binary", name)
			}
			if top.DisableFlagParsing { // the stand-in
				return top.RunE(top, args)
			}
			top.SetContext(c.Context())
			if err := top.ParseFlags(args); err != nil {
				if errors.Is(err, pflag.ErrHelp) {
					return top.Help()
				}
				return usageError{err}
			}
			if err := top.ValidateArgs(top.Flags().Args()); err != nil {
				return usageError{err}
			}
			return top.RunE(top, top.Flags().Args())
		},
	}
}

// ImageStore opens the image store under --root, traced with --trace.
func ImageStore(env *Env) (*image.Store, error) {
	s, err := image.Open(env.Root)
	if err != nil {
		return nil, err
	}
	if env.Trace {
		s.Log = trace.New("hk", trace.Writer(os.Stderr))
	}
	if hkuserns.Inside() { // rootless: uid 0 of the user's namespace
		s.UnpackOptions = image.UnpackOptions{NoDevices: true, OpaqueXattr: image.OpaqueXattrUser, Rootless: true}
	}
	return s, nil
}

// ImageStoreRW is ImageStore for a command that unpacks or removes
// layers: rootless, it first re-executes itself as uid 0 of a user
// namespace mapping the user's subuid range (hkuserns), so that layer
// files are owned as the container will see them (podman's layout).
func ImageStoreRW(env *Env) (*image.Store, error) {
	var log *trace.Log
	if env.Trace {
		log = trace.New("hk", trace.Writer(os.Stderr))
	}
	if err := hkuserns.Enter(log); err != nil {
		return nil, err
	}
	return ImageStore(env)
}

// humanSize is a size as Docker prints it: decimal units, 3 significant
// digits ("4.26MB").
func humanSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.3g%s", f, units[i])
}

// humanSince is how long ago t was, as Docker prints it ("2 weeks ago").
func humanSince(t time.Time) string {
	if t.IsZero() {
		return "N/A"
	}
	return humanDuration(time.Since(t)) + " ago"
}

func humanDuration(d time.Duration) string {
	s := int(d.Seconds())
	switch {
	case s < 1:
		return "Less than a second"
	case s == 1:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	}
	m := int(d.Minutes())
	switch {
	case m == 1:
		return "About a minute"
	case m < 60:
		return fmt.Sprintf("%d minutes", m)
	}
	h := int(d.Hours() + 0.5)
	switch {
	case h == 1:
		return "About an hour"
	case h < 48:
		return fmt.Sprintf("%d hours", h)
	case h < 24*7*2:
		return fmt.Sprintf("%d days", h/24)
	case h < 24*30*2:
		return fmt.Sprintf("%d weeks", h/24/7)
	case h < 24*365*2:
		return fmt.Sprintf("%d months", h/24/30)
	}
	return fmt.Sprintf("%d years", h/24/365)
}

// shortID is the 12 hex digits Docker shows of an ID.
func shortID(id string) string {
	h := strings.TrimPrefix(id, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}
