package box

import "time"

// States a record can be in. Whether it runs (or is paused) is never
// stored: it is read from the live process, through the runtime's state
// (hkcli's status), and the exit from the monitor's exit file until the
// monitor has recorded it here.
const (
	Created = "created" // made; maybe started since
	Exited  = "exited"  // its exit is recorded
)

// Container is one container's record.
type Container struct {
	ID       string
	Name     string
	Image    string // as the user named it
	ImageID  string
	Config   ImageConfig // the image's config, as create saw it
	Opts     Options
	Args     []string // the process's argv, resolved (Entrypoint + Cmd)
	Created  time.Time
	Rootless bool
	Layers   []string // the image's layer dirs, bottom first
	// Netns is the network namespace the container runs in when it is not
	// a new one of its own: a bridge network's (a file under the run root,
	// made and wired before the container, hknet) or another container's.
	Netns      string `json:",omitempty"`
	State      string
	StartedAt  time.Time `json:",omitzero"`
	FinishedAt time.Time `json:",omitzero"`
	ExitCode   int
}

// ImageConfig is what running needs of the image's config (the fields of
// image-spec's ImageConfig, as hk's image store gives them).
type ImageConfig struct {
	User       string   `json:",omitempty"`
	Env        []string `json:",omitempty"`
	Entrypoint []string `json:",omitempty"`
	Cmd        []string `json:",omitempty"`
	WorkingDir string   `json:",omitempty"`
	StopSignal string   `json:",omitempty"`
}

// Options are the `run`/`create` flags, as given (Docker's names).
type Options struct {
	Cmd        []string `json:",omitempty"`
	Entrypoint *string  `json:",omitempty"` // nil: the image's; "": none
	Env        []string `json:",omitempty"` // -e and --env-file, in order
	Volumes    []string `json:",omitempty"` // HOST:CTR[:ro]
	Tmpfs      []string `json:",omitempty"` // PATH[:OPTS]
	Devices    []string `json:",omitempty"` // HOST[:CTR[:PERMS]]
	Ulimits    []string `json:",omitempty"` // name=soft[:hard]
	Workdir    string   `json:",omitempty"`
	User       string   `json:",omitempty"`
	Hostname   string   `json:",omitempty"`
	Memory     int64    `json:",omitempty"`
	CPUs       float64  `json:",omitempty"`
	CPUShares  uint64   `json:",omitempty"`
	CpusetCPUs string   `json:",omitempty"`
	PidsLimit  int64    `json:",omitempty"`
	ReadOnly   bool     `json:",omitempty"`
	Init       bool     `json:",omitempty"` // --init: catatonit as PID 1
	// CgroupParent: --cgroup-parent, the cgroup the container's goes
	// under (default /hk).
	CgroupParent string   `json:",omitempty"`
	CapAdd       []string `json:",omitempty"`
	CapDrop      []string `json:",omitempty"`
	SecurityOpt  []string `json:",omitempty"`
	Network      string   `json:",omitempty"` // none, host, container:NAME, or a network's name (bridge: the default)
	Publish      []string `json:",omitempty"` // -p [IP:][HOST:]CTR[/PROTO]
	PublishAll   bool     `json:",omitempty"` // -P: every port the image exposes
	Aliases      []string `json:",omitempty"` // --network-alias
	Interactive  bool     `json:",omitempty"`
	TTY          bool     `json:",omitempty"`
	Rm           bool     `json:",omitempty"`
	StopSignal   string   `json:",omitempty"`
	StopTimeout  int      `json:",omitempty"` // seconds; 0: 10
}

// StopSignal is --stop-signal, else the image's, else SIGTERM.
func (c *Container) StopSignal() string {
	switch {
	case c.Opts.StopSignal != "":
		return c.Opts.StopSignal
	case c.Config.StopSignal != "":
		return c.Config.StopSignal
	}
	return "SIGTERM"
}

// Hostname is --hostname, else the short ID (Docker's default).
func (c *Container) Hostname() string {
	if c.Opts.Hostname != "" {
		return c.Opts.Hostname
	}
	return Short(c.ID)
}
