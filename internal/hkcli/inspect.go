package hkcli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"hako/internal/box"
	"hako/internal/image"
)

// ctrInspect is `docker inspect`'s object for a container, with the
// fields hk has.
type ctrInspect struct {
	ID      string `json:"Id"`
	Created string
	Path    string
	Args    []string
	State   struct {
		Status                   string
		Running, Paused          bool
		Pid, ExitCode            int
		StartedAt, FinishedAt    string
		OOMKilled, Dead, Restart bool
	}
	Image        string
	Name         string
	LogPath      string
	ResolvConf   string
	HostnamePath string
	HostsPath    string
	Driver       string
	Config       struct {
		Hostname, User, WorkingDir, Image, StopSignal string
		Env, Cmd                                      []string
		Entrypoint                                    []string
		Tty, OpenStdin                                bool
	}
	HostConfig struct {
		Memory, NanoCpus, PidsLimit int64
		CpuShares                   uint64
		CpusetCpus                  string
		ReadonlyRootfs, AutoRemove  bool
		CapAdd, CapDrop             []string
		SecurityOpt, Binds, Tmpfs   []string
		NetworkMode                 string
	}
	NetworkSettings netSettings
	GraphDriver     struct {
		Name string
		Data map[string]string
	}
}

func (b *boxes) inspect(c *box.Container) ctrInspect {
	var in ctrInspect
	st := b.status(c)
	dir := b.dir(c)
	in.ID, in.Created, in.Image, in.Name = c.ID, c.Created.Format(time.RFC3339Nano), c.ImageID, "/"+c.Name
	if len(c.Args) > 0 {
		in.Path, in.Args = c.Args[0], c.Args[1:]
	}
	in.State.Status, in.State.Pid, in.State.ExitCode = st.State, st.Pid, st.ExitCode
	in.State.Running, in.State.Paused = st.State == "running" || st.State == "paused", st.State == "paused"
	in.State.StartedAt, in.State.FinishedAt = st.Started.UTC().Format(time.RFC3339Nano), st.Finished.UTC().Format(time.RFC3339Nano)
	in.LogPath, in.ResolvConf, in.HostnamePath, in.HostsPath = b.logFile(c), dir+"/resolv.conf", dir+"/hostname", dir+"/hosts"
	cfg := &in.Config
	cfg.Hostname, cfg.User, cfg.WorkingDir, cfg.Image, cfg.StopSignal = c.Hostname(), c.Opts.User, c.Opts.Workdir, c.Image, c.StopSignal()
	if cfg.User == "" {
		cfg.User = c.Config.User
	}
	if cfg.WorkingDir == "" {
		cfg.WorkingDir = c.Config.WorkingDir
	}
	cfg.Env = box.Env(c.Config, c.Opts, c.Hostname(), func(string) (string, bool) { return "", false })
	cfg.Cmd, cfg.Entrypoint = c.Config.Cmd, c.Config.Entrypoint
	if len(c.Opts.Cmd) > 0 {
		cfg.Cmd = c.Opts.Cmd
	}
	if c.Opts.Entrypoint != nil {
		cfg.Entrypoint = []string{*c.Opts.Entrypoint}
	}
	cfg.Tty, cfg.OpenStdin = c.Opts.TTY, c.Opts.Interactive
	h, o := &in.HostConfig, c.Opts
	h.Memory, h.NanoCpus, h.PidsLimit, h.CpuShares, h.CpusetCpus = o.Memory, int64(o.CPUs*1e9), o.PidsLimit, o.CPUShares, o.CpusetCPUs
	h.ReadonlyRootfs, h.AutoRemove, h.CapAdd, h.CapDrop = o.ReadOnly, o.Rm, o.CapAdd, o.CapDrop
	h.SecurityOpt, h.Binds, h.Tmpfs, h.NetworkMode = o.SecurityOpt, o.Volumes, o.Tmpfs, o.Network
	in.Driver = box.Driver(dir)
	in.GraphDriver.Name = in.Driver
	in.GraphDriver.Data = map[string]string{"MergedDir": box.RootfsDir(dir), "UpperDir": dir + "/upper", "WorkDir": dir + "/work"}
	in.NetworkSettings = b.netSettings(c)
	return in
}

func init() {
	register(func(env *Env) *cobra.Command {
		var format, typ string
		c := &cobra.Command{
			Use:   "inspect [OPTIONS] NAME|ID [NAME|ID...]",
			Short: "Return low-level information on containers, or images when no container has the name",
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				b, err := openBoxes(env)
				if err != nil {
					return err
				}
				var out []any
				var errs []error
				for _, ref := range args {
					v, err := b.inspectAny(ref, typ)
					if err != nil {
						errs = append(errs, err)
						continue
					}
					out = append(out, v)
				}
				return writeInspect(cmd.OutOrStdout(), out, format, errs)
			},
		}
		c.Flags().StringVarP(&format, "format", "f", "", "format the output using the given Go template")
		c.Flags().StringVar(&typ, "type", "", "container or image (default: a container if one has the name, else an image)")
		return c
	})
}

// inspectAny is a container's inspect object, or else an image's.
func (b *boxes) inspectAny(ref, typ string) (any, error) {
	if typ != "image" {
		c, err := b.store.Get(ref)
		if err == nil {
			return b.inspect(c), nil
		}
		if !errors.Is(err, box.ErrNotFound) || typ == "container" {
			return nil, fmt.Errorf("no such container: %s", ref)
		}
	}
	is, err := ImageStore(b.env)
	if err != nil {
		return nil, err
	}
	defer is.Close()
	img, err := is.Get(ref)
	if errors.Is(err, image.ErrNotFound) {
		return nil, fmt.Errorf("no such object: %s", ref)
	}
	if err != nil {
		return nil, err
	}
	return inspectOf(img), nil
}
