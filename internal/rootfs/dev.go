package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func dev(path string, major, minor int64) specs.LinuxDevice {
	mode := os.FileMode(0o666)
	var zero uint32
	return specs.LinuxDevice{Path: path, Type: "c", Major: major, Minor: minor, FileMode: &mode, UID: &zero, GID: &zero}
}

// defaultDevices are the nodes every container gets (runtime-spec "Default
// Devices"), unless the config lists the same path itself.
var defaultDevices = []specs.LinuxDevice{
	dev("/dev/null", 1, 3), dev("/dev/zero", 1, 5), dev("/dev/full", 1, 7),
	dev("/dev/random", 1, 8), dev("/dev/urandom", 1, 9), dev("/dev/tty", 5, 0),
}

// setupDev fills a fresh /dev: default nodes, the standard links, and
// /dev/ptmx pointing at the container's own devpts instance.
func (b *Builder) setupDev() error {
	if err := b.createDevices(DevNodes(b.cfg.Spec.Linux.Devices)); err != nil {
		return err
	}
	for _, l := range DevLinks() {
		if err := b.symlink(l[0], l[1]); err != nil {
			return err
		}
	}
	return nil
}

// DevNodes are the default nodes a fresh /dev gets, less those the config
// lists itself (it makes those).
func DevNodes(listedInConfig []specs.LinuxDevice) []specs.LinuxDevice {
	var devs []specs.LinuxDevice
	for _, d := range defaultDevices {
		if !listed(listedInConfig, d.Path) {
			devs = append(devs, d)
		}
	}
	return devs
}

// DevLinks are the standard links of a fresh /dev, as [target, link].
func DevLinks() [][2]string {
	links := [][2]string{
		{"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"},
		{"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
		{"pts/ptmx", "/dev/ptmx"},
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "/dev/core"})
	}
	return links
}

func listed(devs []specs.LinuxDevice, path string) bool {
	for _, d := range devs {
		if filepath.Clean(d.Path) == path {
			return true
		}
	}
	return false
}

// symlink creates link -> target inside the rootfs, replacing what is there.
func (b *Builder) symlink(target, link string) error {
	return b.log.Step("symlink", link+" -> "+target, func() error {
		dir, err := b.openDir(filepath.Dir(link), 0o755)
		if err != nil {
			return err
		}
		defer dir.Close()
		base := filepath.Base(link)
		err = unix.Symlinkat(target, int(dir.Fd()), base)
		if errors.Is(err, unix.EEXIST) {
			if err = unix.Unlinkat(int(dir.Fd()), base, 0); err == nil {
				err = unix.Symlinkat(target, int(dir.Fd()), base)
			}
		}
		return err
	})
}

// createDevices makes device nodes: mknod where the kernel allows it, and
// inside a user namespace (where mknod is refused) a bind mount of the
// host's node onto an empty file, as runc does.
func (b *Builder) createDevices(devs []specs.LinuxDevice) error {
	for i := range devs {
		d := &devs[i]
		desc := fmt.Sprintf("%s %s %d:%d", d.Path, d.Type, d.Major, d.Minor)
		var err error
		if b.cfg.UserNS {
			err = b.bindDevice(d, desc)
		} else {
			err = b.log.Step("mknod", desc, func() error { return b.mknod(d) })
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// DevType maps a device type letter (c, u, b, p) to its S_IF* file type.
func DevType(t string) (uint32, error) {
	switch t {
	case "c", "u":
		return unix.S_IFCHR, nil
	case "b":
		return unix.S_IFBLK, nil
	case "p":
		return unix.S_IFIFO, nil
	}
	return 0, fmt.Errorf("unknown device type %q", t)
}

func (b *Builder) mknod(d *specs.LinuxDevice) error {
	typ, err := DevType(d.Type)
	if err != nil {
		return err
	}
	mode := uint32(0o666)
	if d.FileMode != nil {
		mode = uint32(d.FileMode.Perm())
	}
	dir, err := b.openDir(filepath.Dir(d.Path), 0o755)
	if err != nil {
		return err
	}
	defer dir.Close()
	base := filepath.Base(d.Path)
	dfd := int(dir.Fd())
	devnum := int(unix.Mkdev(uint32(d.Major), uint32(d.Minor)))
	err = unix.Mknodat(dfd, base, typ|mode, devnum)
	if errors.Is(err, unix.EEXIST) {
		if err = unix.Unlinkat(dfd, base, 0); err == nil {
			err = unix.Mknodat(dfd, base, typ|mode, devnum)
		}
	}
	if err != nil {
		return err
	}
	uid, gid := 0, 0
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	return unix.Fchownat(dfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW)
}

func (b *Builder) bindDevice(d *specs.LinuxDevice, desc string) error {
	t, err := b.openFile(d.Path)
	if err != nil {
		return b.log.Step("bind device", desc, func() error { return err })
	}
	defer t.Close()
	return b.log.Step("bind device", "host "+d.Path+" on "+desc, func() error {
		return unix.Mount(d.Path, fdPath(t), "", unix.MS_BIND, "")
	})
}

// BindConsole binds the pty's terminal side onto /dev/console.
func (b *Builder) BindConsole(pts *os.File) error {
	t, err := b.openFile("/dev/console")
	if err != nil {
		return b.log.Step("mount", "console on /dev/console", func() error { return err })
	}
	defer t.Close()
	return b.log.Step("mount", "bind pty "+realPath(pts)+" on /dev/console", func() error {
		return unix.Mount(fdPath(pts), fdPath(t), "", unix.MS_BIND, "")
	})
}
