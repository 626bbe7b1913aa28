package hkcli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"hako/internal/box"
	"hako/internal/hknet"
	"hako/internal/image"
)

// createFlags are the flags `run` and `create` share (Docker's names).
type createFlags struct {
	o          box.Options
	name       string
	envFiles   []string
	entrypoint string
	memory     string
	driver     string
}

func (f *createFlags) define(fs *pflag.FlagSet) {
	o := &f.o
	fs.SetInterspersed(false) // flags end at the image: the rest is the command
	fs.StringVar(&f.name, "name", "", "assign a name to the container")
	fs.StringArrayVarP(&o.Env, "env", "e", nil, "set an environment variable (NAME=VALUE, or NAME to pass hk's own)")
	fs.StringArrayVar(&f.envFiles, "env-file", nil, "read environment variables from a file (NAME=VALUE lines)")
	fs.StringArrayVarP(&o.Volumes, "volume", "v", nil, "bind mount a host path: HOST:CONTAINER[:ro]")
	fs.StringArrayVar(&o.Tmpfs, "tmpfs", nil, "mount a tmpfs: PATH[:OPTIONS]")
	fs.StringArrayVar(&o.Devices, "device", nil, "add a host device: HOST[:CONTAINER[:PERMISSIONS]]")
	fs.StringArrayVar(&o.Ulimits, "ulimit", nil, "set a resource limit: NAME=SOFT[:HARD] (e.g. nofile=1024:2048)")
	fs.StringVarP(&o.Workdir, "workdir", "w", "", "working directory inside the container")
	fs.StringVarP(&o.User, "user", "u", "", "user: NAME|UID[:GROUP|GID]")
	fs.StringVarP(&o.Hostname, "hostname", "h", "", "container host name (default: the short ID)")
	fs.Bool("help", false, "print usage (-h is --hostname, as in Docker)")
	fs.StringVar(&f.entrypoint, "entrypoint", "", "overwrite the image's ENTRYPOINT")
	fs.StringVarP(&f.memory, "memory", "m", "", "memory limit (e.g. 64m, 1g)")
	fs.Float64Var(&o.CPUs, "cpus", 0, "number of CPUs (a CFS quota)")
	fs.Uint64VarP(&o.CPUShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	fs.StringVar(&o.CpusetCPUs, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	fs.Int64Var(&o.PidsLimit, "pids-limit", 0, "limit the number of processes (-1: unlimited)")
	fs.BoolVar(&o.ReadOnly, "read-only", false, "mount the container's root read-only")
	fs.StringVar(&o.CgroupParent, "cgroup-parent", "", "the cgroup the container's own goes under (default /hk)")
	fs.BoolVar(&o.Init, "init", false, "run an init (catatonit) as PID 1 that reaps zombies and forwards signals")
	fs.StringArrayVar(&o.CapAdd, "cap-add", nil, "add a Linux capability")
	fs.StringArrayVar(&o.CapDrop, "cap-drop", nil, "drop a Linux capability")
	fs.StringArrayVar(&o.SecurityOpt, "security-opt", nil, "no-new-privileges, seccomp=unconfined|FILE")
	fs.StringVar(&o.Network, "network", "", "bridge (the default as root), a network's name (hk network create), slirp4netns or pasta (rootless: a user-mode network; slirp4netns is the default), none (only lo), host, container:NAME")
	fs.StringVar(&o.Network, "net", "", "alias of --network")
	fs.StringArrayVarP(&o.Publish, "publish", "p", nil, "publish a container's port: [IP:][HOST:]CONTAINER[/tcp|udp]")
	fs.BoolVarP(&o.PublishAll, "publish-all", "P", false, "publish every port the image exposes, each on a free host port")
	fs.StringArrayVar(&o.Aliases, "network-alias", nil, "another name the container has on its network")
	fs.Lookup("net").Hidden = true
	fs.BoolVarP(&o.Interactive, "interactive", "i", false, "keep STDIN open")
	fs.BoolVarP(&o.TTY, "tty", "t", false, "allocate a pseudo-TTY")
	fs.BoolVar(&o.Rm, "rm", false, "remove the container when it exits")
	fs.StringVar(&o.StopSignal, "stop-signal", "", "signal to stop the container (default: the image's, else SIGTERM)")
	fs.IntVar(&o.StopTimeout, "stop-timeout", 10, "seconds to wait for the stop signal before SIGKILL")
	fs.StringVar(&f.driver, "storage-driver", "", "overlay or vfs (a copy; the fallback where overlayfs cannot be mounted)")
	fs.Lookup("storage-driver").Hidden = true
}

// options resolves what the flags say into box.Options.
func (f *createFlags) options(fs *pflag.FlagSet) (box.Options, error) {
	o := f.o
	if fs.Changed("entrypoint") {
		o.Entrypoint = &f.entrypoint
	}
	if f.memory != "" {
		n, err := parseBytes(f.memory)
		if err != nil {
			return o, fmt.Errorf("invalid argument %q for \"-m, --memory\" flag: %w", f.memory, err)
		}
		o.Memory = n
	}
	var env []string
	for _, file := range f.envFiles {
		kv, err := readEnvFile(file)
		if err != nil {
			return o, err
		}
		env = append(env, kv...)
	}
	o.Env = append(env, o.Env...)
	if o.PidsLimit < 0 {
		o.PidsLimit = -1
	}
	for _, p := range o.Publish {
		if _, err := hknet.ParsePort(p); err != nil {
			return o, usageError{err}
		}
	}
	return o, nil
}

// parseBytes reads Docker's sizes: 64m, 1g, 512k, 1048576 (b, k, m, g, t; 1024-based).
func parseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("invalid size: %q", s)
	}
	return int64(v * float64(mult)), nil
}

// readEnvFile reads NAME=VALUE lines (# comments, blank lines skipped; a
// bare NAME takes hk's own value), Docker's --env-file format.
func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open env file: %w", err)
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimLeft(s.Text(), " \t")
		if line == "" || line[0] == '#' {
			continue
		}
		if k, _, _ := strings.Cut(line, "="); strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("env file %s: variable %q contains whitespaces", path, k)
		}
		out = append(out, line)
	}
	return out, s.Err()
}

// create makes a container from the image and flags: its record (name
// reserved), the image held, its directory, root and spec. The root stays
// mounted for the caller (run starts it at once). On failure nothing is
// left behind.
func (b *boxes) create(ref string, f *createFlags, fs *pflag.FlagSet, cmd []string) (*box.Container, error) {
	o, err := f.options(fs)
	if err != nil {
		return nil, err
	}
	o.Cmd = cmd
	if f.name != "" && !validName(f.name) {
		return nil, fmt.Errorf("invalid container name %q, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", f.name)
	}
	if err := b.enterUserNS(); err != nil {
		return nil, err
	}
	img, err := b.findImage(ref)
	if err != nil {
		return nil, err
	}
	c := &box.Container{ID: box.NewID(), Name: f.name, Image: ref, ImageID: img.ID, Opts: o,
		Config: box.ImageConfig{User: img.Config.User, Env: img.Config.Env, Entrypoint: img.Config.Entrypoint,
			Cmd: img.Config.Cmd, WorkingDir: img.Config.WorkingDir, StopSignal: img.Config.StopSignal},
		Created: time.Now().UTC(), Rootless: b.rootless(), Layers: img.Layers, State: box.Created}
	if c.Args, err = box.Args(c.Config, o); err != nil {
		return nil, err
	}
	if err := b.planNetwork(c, img.Config.ExposedPorts); err != nil {
		return nil, err
	}
	if err := b.store.Add(c); err != nil {
		return nil, err
	}
	if err := b.makeNetns(c); err != nil {
		b.remove(c)
		return nil, err
	}
	if err := b.prepare(c, f.driver); err != nil {
		b.remove(c)
		return nil, err
	}
	if err := b.attach(c); err != nil {
		b.remove(c)
		return nil, err
	}
	return c, nil
}

func validName(n string) bool {
	for i, r := range n {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && strings.ContainsRune("_.-", r)
		if !ok {
			return false
		}
	}
	return n != ""
}

// findImage gets the image from the store, pulling it first when the
// store has none by that name (Docker's behaviour).
func (b *boxes) findImage(ref string) (*image.Image, error) {
	is, err := b.images()
	if err != nil {
		return nil, err
	}
	img, err := is.Get(ref)
	if errors.Is(err, image.ErrNotFound) {
		if perr := b.pull(ref); perr != nil {
			return nil, fmt.Errorf("unable to find image %q locally, and pulling it failed: %w", ref, perr)
		}
		img, err = is.Get(ref)
	}
	return img, err
}

// prepare holds the image, makes the container's directory and root, and
// writes the spec.
func (b *boxes) prepare(c *box.Container, driver string) error {
	is, err := b.images()
	if err != nil {
		return err
	}
	if err := is.Hold(c.ImageID, c.ID); err != nil {
		return err
	}
	dir := b.dir(c)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if _, err := box.MountRootfs(b.log, dir, c.Layers, driver, b.priv.InUserNS, c.Opts.Rm); err != nil {
		return err
	}
	s, err := box.Build(c, box.RootfsDir(dir), dir)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		return err
	}
	return b.log.Step("write", dir+"/config.json", func() error { return os.WriteFile(dir+"/config.json", data, 0o600) })
}

func init() {
	register(func(env *Env) *cobra.Command {
		var f createFlags
		c := &cobra.Command{
			Use:   "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
			Short: "Create a new container",
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				b, err := openBoxes(env)
				if err != nil {
					return err
				}
				c, err := b.create(args[0], &f, cmd.Flags(), args[1:])
				if err != nil {
					return err
				}
				if err := box.UnmountRootfs(b.log, b.dir(c)); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), c.ID)
				return nil
			},
		}
		f.define(c.Flags())
		return c
	})
}
