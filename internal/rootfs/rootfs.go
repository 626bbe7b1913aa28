package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/spec"
	"hako/internal/trace"
)

// Config says what to build.
type Config struct {
	Rootfs   string // absolute host path of the root filesystem
	Spec     *specs.Spec
	UserNS   bool // the container has its own user namespace: no mknod, locked mount flags
	NetNS    bool // the container has its own network namespace (sysfs needs one in a user ns)
	CgroupNS bool
	Rootless bool   // hako runs unprivileged: /sys/fs/cgroup is always read-only
	Bundle   string // relative bind-mount sources are relative to it
	NoPivot  bool
}

// Builder carries the open rootfs handle through the steps.
type Builder struct {
	cfg  Config
	log  *trace.Log
	root *os.File
	// fdDir is the host's /proc/self/fd, opened before anything in the
	// container exists. Mounts name their source and target as "N"
	// relative to it (the working directory while building), so no mount
	// ever resolves a path through the container's /proc, which a volume
	// or the image may have replaced (CVE-2019-16884).
	fdDir *os.File
}

// New opens the rootfs and the host's /proc/self/fd. Close them with Close.
func New(cfg Config, log *trace.Log) (*Builder, error) {
	root, err := os.OpenFile(cfg.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open rootfs %s: %w", cfg.Rootfs, err)
	}
	fdDir, err := os.OpenFile("/proc/self/fd", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("open /proc/self/fd: %w", err)
	}
	return &Builder{cfg: cfg, log: log, root: root, fdDir: fdDir}, nil
}

// Close releases the handles.
func (b *Builder) Close() {
	b.root.Close()
	b.fdDir.Close()
}

// enterFdDir makes the host's /proc/self/fd the working directory, so the
// relative names fdPath returns resolve there.
func (b *Builder) enterFdDir() error {
	return unix.Fchdir(int(b.fdDir.Fd()))
}

// Prepare does everything before pivot_root: root propagation, the rootfs
// bind, the config's mounts, /dev and the console.
func (b *Builder) Prepare() error {
	if err := b.enterFdDir(); err != nil {
		return err
	}
	if err := b.prepareRoot(); err != nil {
		return err
	}
	devMounted := false
	for i := range b.cfg.Spec.Mounts {
		m := &b.cfg.Spec.Mounts[i]
		if err := b.mount(m); err != nil {
			return err
		}
		if filepath.Clean(m.Destination) == "/dev" && !IsBind(m) {
			devMounted = true
		}
	}
	if devMounted {
		if err := b.setupDev(); err != nil {
			return err
		}
	}
	return b.createDevices(b.cfg.Spec.Linux.Devices)
}

// OpenPtmx opens the multiplexer of the container's own devpts instance.
func (b *Builder) OpenPtmx() (*os.File, error) {
	h, err := pathrs.OpenatInRoot(b.root, "/dev/pts/ptmx")
	if err != nil {
		return nil, fmt.Errorf("open /dev/pts/ptmx in rootfs (is devpts mounted?): %w", err)
	}
	defer h.Close()
	return pathrs.Reopen(h, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
}

// prepareRoot stops mounts made here from reaching the host (rslave, or
// rprivate when the config asks for private) and turns the rootfs into a
// mount point, which pivot_root requires. The configured rootfsPropagation
// itself is applied to the new / after pivot_root (see Finish), as crun does:
// applied to the old / first, "unbindable" would forbid the rootfs bind.
func (b *Builder) prepareRoot() error {
	flag := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if p := b.cfg.Spec.Linux.RootfsPropagation; p != "" {
		f, ok := propagation[p]
		if !ok {
			return fmt.Errorf("linux.rootfsPropagation: unknown value %q", p)
		}
		if f&unix.MS_PRIVATE != 0 {
			flag = unix.MS_PRIVATE | unix.MS_REC
		}
	}
	if err := b.log.Step("mount", "/ propagation "+PropName(flag), func() error {
		return unix.Mount("", "/", "", flag, "")
	}); err != nil {
		return err
	}
	rootfs := b.cfg.Rootfs
	if err := b.log.Step("mount", "bind "+rootfs+" on itself (rbind)", func() error {
		return unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, "")
	}); err != nil {
		return err
	}
	// Re-open: the old handle points below the new bind mount.
	b.root.Close()
	root, err := os.OpenFile(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	b.root = root
	return b.parentPrivate()
}

// parentPrivate makes the mount holding the rootfs private when it is
// shared: pivot_root(2) refuses a new root whose parent mount is shared.
func (b *Builder) parentPrivate() error {
	mp, shared, err := parentMount(b.cfg.Rootfs)
	if err != nil || !shared {
		return err
	}
	return b.log.Step("mount", mp+" propagation private (parent of rootfs)", func() error {
		return unix.Mount("", mp, "", unix.MS_PRIVATE, "")
	})
}

// propagation maps rootfsPropagation and mount option names to MS_* flags.
var propagation = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// Propagation maps a rootfsPropagation or mount option name to MS_* flags.
func Propagation(name string) (uintptr, bool) { f, ok := propagation[name]; return f, ok }

// PropName names MS_* propagation flags.
func PropName(f uintptr) string {
	for k, v := range propagation {
		if v == f {
			return k
		}
	}
	return strconv.FormatUint(uint64(f), 16)
}

// IsBind reports whether m is a bind mount (type bind or option (r)bind).
func IsBind(m *specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

// fdPath names an open fd so mount(2) acts on exactly the file we resolved:
// its number, relative to the working directory, the host's /proc/self/fd
// (see Builder.fdDir).
func fdPath(f *os.File) string { return strconv.Itoa(int(f.Fd())) }

// MountDesc renders "type on dest (opts)" for traces and errors.
func MountDesc(m *specs.Mount) string {
	s := m.Type
	if IsBind(m) {
		s = "bind " + m.Source
	}
	s += " on " + m.Destination
	if len(m.Options) > 0 {
		s += " (" + strings.Join(m.Options, ",") + ")"
	}
	return s
}

// openDir resolves dir inside the rootfs, creating it (and its parents).
func (b *Builder) openDir(dir string, mode os.FileMode) (*os.File, error) {
	if f, err := b.lookup(dir, unix.O_DIRECTORY); err == nil {
		return f, nil
	}
	if f, err := b.mkdirOne(dir, mode); err == nil {
		return f, nil
	}
	return pathrs.MkdirAllHandle(b.root, dir, mode)
}

// mkdirOne is the common case of a missing directory whose parent exists
// (/dev/pts in a fresh /dev tmpfs): mkdirat in the parent, opened inside the
// root, then the new directory by the same lookup. Anything else (several
// levels missing, a race) is left to MkdirAllHandle.
func (b *Builder) mkdirOne(dir string, mode os.FileMode) (*os.File, error) {
	parent, err := b.lookup(filepath.Dir(dir), unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	if err := unix.Mkdirat(int(parent.Fd()), filepath.Base(dir), uint32(mode.Perm())); err != nil {
		return nil, err
	}
	return b.lookup(dir, unix.O_DIRECTORY)
}

// openFile resolves a non-directory inside the rootfs, creating an empty
// file if nothing is there. It never truncates and never follows a symlink
// out of the root.
func (b *Builder) openFile(p string) (*os.File, error) {
	f, err := b.lookup(p, 0)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	dir, err := b.openDir(filepath.Dir(p), 0o755)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	fd, err := unix.Openat(int(dir.Fd()), filepath.Base(p), unix.O_CREAT|unix.O_EXCL|unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil && err != unix.EEXIST {
		return nil, fmt.Errorf("create %s: %w", p, err)
	}
	if err == nil {
		unix.Close(fd)
	}
	return b.lookup(p, 0)
}

// lookup opens an existing path inside the rootfs as an O_PATH handle with
// one openat2(RESOLVE_IN_ROOT) call: symlinks (absolute ones included)
// resolve as if the rootfs were /, ".." stops at it, and magic links are
// refused. It is the fast path: most targets exist (/proc, /dev, /sys in the
// image, or were just made in a fresh tmpfs); creating what is missing goes
// through pathrs-lite's MkdirAllHandle, which is careful and slow.
func (b *Builder) lookup(p string, flags uint64) (*os.File, error) {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC | flags,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(int(b.root.Fd()), p, &how)
	if err != nil {
		return nil, &os.PathError{Op: "openat2 (in rootfs)", Path: p, Err: err}
	}
	return os.NewFile(uintptr(fd), p), nil
}

// realPath is where an fd really is, for checks and messages.
func realPath(f *os.File) string {
	p, _ := os.Readlink(fdPath(f)) // relative to the host's /proc/self/fd
	return p
}

// inRootPath is the path of fd relative to the rootfs, or "" if outside.
func (b *Builder) inRootPath(f *os.File) string {
	p := realPath(f)
	rel, err := filepath.Rel(b.cfg.Rootfs, p)
	if err != nil || strings.HasPrefix(rel, "..") {
		return ""
	}
	return "/" + strings.TrimPrefix(rel, ".")
}

// specOpts is a shorthand for the shared option parser.
func specOpts(m *specs.Mount) spec.MountOptions { return spec.ParseMountOptions(m.Options) }
