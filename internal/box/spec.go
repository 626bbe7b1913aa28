package box

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/spec"
)

// SpecOpt changes the spec being built (containerd's oci.SpecOpts).
type SpecOpt func(*specs.Spec) error

// Args resolves the process's argv by Docker's rules: --entrypoint
// replaces the image's Entrypoint and drops its Cmd; arguments after the
// image replace Cmd.
func Args(img ImageConfig, o Options) ([]string, error) {
	ep, cmd := img.Entrypoint, img.Cmd
	if o.Entrypoint != nil {
		ep, cmd = nil, nil
		if *o.Entrypoint != "" {
			ep = []string{*o.Entrypoint}
		}
	}
	if len(o.Cmd) > 0 {
		cmd = o.Cmd
	}
	args := append(append([]string{}, ep...), cmd...)
	if len(args) == 0 {
		return nil, errors.New("no command specified: the image has no Entrypoint or Cmd, give one after the image name")
	}
	return args, nil
}

// Env merges the environment as Docker does: PATH (when the image has
// none), HOSTNAME, TERM for a terminal, the image's, then the user's
// (-e NAME alone takes NAME from hk's own environment); a later value of
// a name replaces the earlier one in place.
func Env(img ImageConfig, o Options, hostname string, lookup func(string) (string, bool)) []string {
	var env []string
	idx := map[string]int{}
	set := func(kv string) {
		k, _, ok := strings.Cut(kv, "=")
		if !ok {
			v, found := lookup(kv)
			if !found {
				return
			}
			kv = k + "=" + v
		}
		if i, ok := idx[k]; ok {
			env[i] = kv
			return
		}
		idx[k] = len(env)
		env = append(env, kv)
	}
	set("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	set("HOSTNAME=" + hostname)
	if o.TTY {
		set("TERM=xterm")
	}
	for _, kv := range img.Env {
		set(kv)
	}
	for _, kv := range o.Env {
		set(kv)
	}
	return env
}

// Build makes the container's spec: Docker's defaults, then the image's
// config and the flags. rootfs is the mounted root (for the user lookup),
// dir the container's directory (hosts, hostname, resolv.conf).
func Build(c *Container, rootfs, dir string, opts ...SpecOpt) (*specs.Spec, error) {
	s := spec.Default()
	s.Root = &specs.Root{Path: rootfs, Readonly: c.Opts.ReadOnly}
	s.Hostname = c.Hostname()
	s.Process.Terminal = c.Opts.TTY
	s.Process.Args = c.Args
	s.Process.NoNewPrivileges = false
	s.Process.Env = Env(c.Config, c.Opts, s.Hostname, os.LookupEnv)
	s.Process.Rlimits = []specs.POSIXRlimit{nofile()}
	s.Annotations = map[string]string{"org.hako.hk.name": c.Name, "org.hako.hk.image": c.Image}
	s.Linux.Resources = &specs.LinuxResources{Devices: s.Linux.Resources.Devices}
	all := []SpecOpt{withUser(c, rootfs), withCwd(c, rootfs), withCaps(c), withSecurityOpts(c),
		withNetwork(c, dir), withVolumes(c), withTmpfs(c), withDevices(c), withUlimits(c), withResources(c), withInit(c)}
	if !c.Rootless {
		all = append(all, withCgroupParent(c))
	}
	for _, o := range append(all, opts...) {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func withUser(c *Container, rootfs string) SpecOpt {
	return func(s *specs.Spec) error {
		u := c.Opts.User
		if u == "" {
			u = c.Config.User
		}
		eu, err := ResolveUserIn(rootfs, u)
		if err != nil {
			return err
		}
		s.Process.User = specs.User{UID: eu.UID, GID: eu.GID, AdditionalGids: eu.Groups}
		if !hasEnv(s.Process.Env, "HOME") {
			s.Process.Env = append(s.Process.Env, "HOME="+eu.Home)
		}
		return nil
	}
}

func hasEnv(env []string, k string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, k+"=") {
			return true
		}
	}
	return false
}

// withCwd sets -w (else the image's WorkingDir) and creates it in the
// container's layer when missing, as Docker does.
func withCwd(c *Container, rootfs string) SpecOpt {
	return func(s *specs.Spec) error {
		cwd := c.Opts.Workdir
		if cwd == "" {
			cwd = c.Config.WorkingDir
		}
		if cwd == "" {
			cwd = "/"
		}
		if !filepath.IsAbs(cwd) {
			return fmt.Errorf("the working directory %q is invalid: it needs to be an absolute path", cwd)
		}
		s.Process.Cwd = filepath.Clean(cwd)
		return mkdirIn(rootfs, s.Process.Cwd)
	}
}
