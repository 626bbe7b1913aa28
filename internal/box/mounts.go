package box

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/hknet"
	"hako/internal/rootlessnet"
)

// withNetwork: none is a new network namespace with only lo; host shares
// the host's, and copies its /etc/hosts and /etc/resolv.conf; a bridge
// network (or container:NAME) runs the container in the namespace at
// c.Netns, which hk made and wired (hknet.Attach writes /etc/hosts into
// the file made here). Each container gets its own /etc/hostname,
// /etc/hosts and /etc/resolv.conf (files in its dir, bind-mounted as
// Docker does).
func withNetwork(c *Container, dir string) SpecOpt {
	return func(s *specs.Spec) error {
		hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
		resolv := "# hk: --network none, no name servers\n"
		switch mode := c.Opts.Network; {
		case mode == "" || mode == "none":
		case mode == "host":
			s.Linux.Namespaces = without(s.Linux.Namespaces, specs.NetworkNamespace)
			if b, err := os.ReadFile("/etc/hosts"); err == nil {
				hosts = string(b)
			}
			if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
				resolv = string(b)
			}
			if c.Rootless {
				// sysfs needs a network namespace owned by the
				// namespace that mounts it: bind the host's.
				for i, m := range s.Mounts {
					if m.Destination == "/sys" {
						s.Mounts[i] = specs.Mount{Destination: "/sys", Type: "none", Source: "/sys",
							Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
					}
				}
			}
		case rootlessnet.IsMode(mode):
			s.Linux.Namespaces = append(without(s.Linux.Namespaces, specs.NetworkNamespace),
				specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: c.Netns})
			host, err := os.ReadFile("/etc/resolv.conf")
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			resolv = string(rootlessnet.ResolvConf(mode, host))
		default:
			if c.Netns == "" {
				return fmt.Errorf("network %q: no network namespace was made for it", mode)
			}
			s.Linux.Namespaces = append(without(s.Linux.Namespaces, specs.NetworkNamespace),
				specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: c.Netns})
			conf, _, err := hknet.ResolvConf()
			if err != nil {
				return err
			}
			resolv = string(conf)
		}
		files := map[string]string{"hostname": s.Hostname + "\n", "hosts": hosts, "resolv.conf": resolv}
		for _, name := range []string{"hostname", "hosts", "resolv.conf"} {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(files[name]), 0o644); err != nil {
				return err
			}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/etc/" + name, Type: "bind", Source: p,
				Options: []string{"rbind", "rprivate"}})
		}
		return nil
	}
}

func without(nss []specs.LinuxNamespace, t specs.LinuxNamespaceType) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, ns := range nss {
		if ns.Type != t {
			out = append(out, ns)
		}
	}
	return out
}

// withVolumes: -v HOST:CTR[:ro|rw], bind mounts of existing host paths.
func withVolumes(c *Container) SpecOpt {
	return func(s *specs.Spec) error {
		for _, v := range c.Opts.Volumes {
			f := strings.Split(v, ":")
			if len(f) < 2 || len(f) > 3 || f[0] == "" || f[1] == "" {
				return fmt.Errorf("invalid volume specification %q: want HOST:CONTAINER[:ro] (named volumes are not supported yet)", v)
			}
			if !filepath.IsAbs(f[0]) || !filepath.IsAbs(f[1]) {
				return fmt.Errorf("invalid volume specification %q: both paths must be absolute", v)
			}
			if _, err := os.Stat(f[0]); err != nil {
				return fmt.Errorf("invalid volume specification %q: bind source path does not exist: %s", v, f[0])
			}
			opts := []string{"rbind", "rprivate"}
			if len(f) == 3 {
				switch f[2] {
				case "ro":
					opts = append(opts, "ro")
				case "rw":
				default:
					return fmt.Errorf("invalid volume specification %q: mode %q (want ro or rw)", v, f[2])
				}
			}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: filepath.Clean(f[1]), Type: "bind", Source: f[0], Options: opts})
		}
		return nil
	}
}

// withTmpfs: --tmpfs PATH[:OPTS], noexec,nosuid,nodev unless OPTS say.
func withTmpfs(c *Container) SpecOpt {
	return func(s *specs.Spec) error {
		for _, t := range c.Opts.Tmpfs {
			p, o, _ := strings.Cut(t, ":")
			if !filepath.IsAbs(p) {
				return fmt.Errorf("invalid --tmpfs %q: the path must be absolute", t)
			}
			opts := []string{"noexec", "nosuid", "nodev"}
			if o != "" {
				opts = append(opts, strings.Split(o, ",")...)
			}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: filepath.Clean(p), Type: "tmpfs", Source: "tmpfs", Options: opts})
		}
		return nil
	}
}

// withDevices: --device HOST[:CTR[:PERMS]], the node and its cgroup rule.
func withDevices(c *Container) SpecOpt {
	return func(s *specs.Spec) error {
		for _, d := range c.Opts.Devices {
			f := strings.Split(d, ":")
			host, ctr, perms := f[0], f[0], "rwm"
			if len(f) > 1 && f[1] != "" {
				ctr = f[1]
			}
			if len(f) > 2 {
				perms = f[2]
			}
			var st unix.Stat_t
			if err := unix.Stat(host, &st); err != nil {
				return fmt.Errorf("error gathering device information while adding custom device %q: %w", host, err)
			}
			typ := ""
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFCHR:
				typ = "c"
			case unix.S_IFBLK:
				typ = "b"
			default:
				return fmt.Errorf("%s is not a device node", host)
			}
			major, minor := int64(unix.Major(uint64(st.Rdev))), int64(unix.Minor(uint64(st.Rdev)))
			mode := os.FileMode(st.Mode & 0o777)
			s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: ctr, Type: typ, Major: major, Minor: minor, FileMode: &mode, UID: &st.Uid, GID: &st.Gid})
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: typ, Major: &major, Minor: &minor, Access: perms})
		}
		return nil
	}
}
