package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// UnpackOptions say how a layer's files are made.
type UnpackOptions struct {
	// NoOwner: leave files owned by the unpacking user (rootless without
	// a user namespace to chown in).
	NoOwner bool
	// NoDevices: skip character and block devices (an unprivileged
	// user may not make them; Docker and podman rootless skip them too).
	NoDevices bool
	// OpaqueXattr marks an opaque directory: "trusted.overlay.opaque"
	// as root, "user.overlay.opaque" for overlayfs mounted with userxattr
	// in a user namespace. "" means OpaqueXattrRoot.
	OpaqueXattr string
	// Rootless: unpacking as uid 0 of a user namespace; xattrs the
	// kernel keeps to real root (trusted.*, security.* but capabilities)
	// are left out, as podman does.
	Rootless bool
}

// The xattrs that make a directory opaque to overlayfs.
const (
	OpaqueXattrRoot = "trusted.overlay.opaque"
	OpaqueXattrUser = "user.overlay.opaque"
)

const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
	whiteoutMeta   = ".wh..wh."
)

// Unpack extracts the tar stream r into dir (an empty directory) as an
// overlayfs layer: whiteouts become 0:0 character devices, opaque
// markers an xattr on their directory. Every name is resolved inside dir
// (openat2 RESOLVE_IN_ROOT, final components never followed), so no
// entry, symlink or hard link can make it write outside. It returns the
// bytes of the regular files.
func Unpack(dir string, r io.Reader, opts UnpackOptions) (int64, error) {
	if opts.OpaqueXattr == "" {
		opts.OpaqueXattr = OpaqueXattrRoot
	}
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(root)
	raw := &countingReader{r: r}
	u := &unpacker{root: root, opts: opts, raw: raw}
	tr := tar.NewReader(raw)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%w: %w", ErrBadTar, err)
		}
		if err := u.entry(hdr, badTarReader{tr}); err != nil {
			return 0, fmt.Errorf("%s: %w", hdr.Name, err)
		}
	}
	return u.size, u.dirTimes()
}

// ErrBadTar: the layer is not a readable tar (corrupt or truncated).
var ErrBadTar = errors.New("corrupt or truncated tar")

// badTarReader says that a failure to read an entry's body is the tar's.
type badTarReader struct{ r io.Reader }

func (b badTarReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %w", ErrBadTar, err)
	}
	return n, err
}

type unpacker struct {
	root int
	raw  *countingReader // the tar stream itself, to tell data from zeros made up
	opts UnpackOptions
	size int64
	dirs []dirTime // directories' times, set last (their entries change them)
}

type dirTime struct {
	rel   string
	mtime time.Time
}

// clean makes a tar name relative to the layer root: "/a/../../b" is "b";
// "" is the root itself.
func clean(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// openDir opens the directory rel, resolved inside the root.
func (u *unpacker) openDir(rel string) (int, error) {
	if rel == "" {
		rel = "."
	}
	return unix.Openat2(u.root, rel, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
}

// mkdirAll opens directory rel, making it and its parents as needed
// (tar may omit parents).
func (u *unpacker) mkdirAll(rel string) (int, error) {
	fd, err := u.openDir(rel)
	if err != unix.ENOENT || rel == "" {
		return fd, err
	}
	pfd, err := u.mkdirAll(parentOf(rel))
	if err != nil {
		return -1, err
	}
	defer unix.Close(pfd)
	if err := unix.Mkdirat(pfd, path.Base(rel), 0o755); err != nil && err != unix.EEXIST {
		return -1, err
	}
	fd, err = u.openDir(rel)
	if err == unix.ENOENT { // there, but a symlink to nothing in the layer
		return -1, fmt.Errorf("%s is a symlink to a directory the layer does not have", rel)
	}
	return fd, err
}

func parentOf(rel string) string {
	if p := path.Dir(rel); p != "." {
		return p
	}
	return ""
}

func (u *unpacker) entry(hdr *tar.Header, body io.Reader) error {
	if isSparse(hdr) {
		// OCI image-spec: "Sparse files SHOULD NOT be used"; Go's tar
		// reader expands holes into zeros, so a few bytes of header could
		// make terabytes of file.
		return fmt.Errorf("%w: a sparse file (not allowed in a layer)", ErrBadTar)
	}
	rel := clean(hdr.Name)
	if rel == "" { // the root itself: its mode and owner
		if hdr.Typeflag != tar.TypeDir {
			return nil
		}
		return u.dirAttrs(u.root, ".", rel, hdr)
	}
	pfd, err := u.mkdirAll(parentOf(rel))
	if err != nil {
		return fmt.Errorf("parent directory: %w", err)
	}
	defer unix.Close(pfd)
	base := path.Base(rel)
	if strings.HasPrefix(base, whiteoutPrefix) {
		return u.whiteout(pfd, base)
	}
	if hdr.Typeflag != tar.TypeDir {
		if err := removeExisting(pfd, base); err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return u.dir(pfd, base, rel, hdr)
	case tar.TypeReg:
		return u.file(pfd, base, hdr, body)
	case tar.TypeSymlink:
		if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
			return err
		}
		return u.attrsAt(pfd, base, hdr)
	case tar.TypeLink:
		return u.hardlink(pfd, base, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return u.special(pfd, base, hdr)
	}
	return nil // pax global headers, GNU long names (consumed by Go's tar), sparse files' parts
}

// removeExisting makes way for an entry that replaces an earlier one of
// the same layer (a later entry wins, as in tar). A directory stays only
// for a directory.
func removeExisting(pfd int, base string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if err == unix.ENOENT {
			return nil
		}
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return removeTreeAt(pfd, base)
	}
	return unix.Unlinkat(pfd, base, 0)
}

// removeTreeAt removes directory base of pfd and everything in it,
// without following symlinks.
func removeTreeAt(pfd int, base string) error {
	fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	d := os.NewFile(uintptr(fd), base)
	names, err := d.Readdirnames(-1)
	if err == nil {
		for _, n := range names {
			if err = removeExisting(fd, n); err != nil {
				break
			}
		}
	}
	d.Close()
	if err != nil {
		return err
	}
	return unix.Unlinkat(pfd, base, unix.AT_REMOVEDIR)
}

func (u *unpacker) whiteout(pfd int, base string) error {
	if base == whiteoutOpaque {
		return setxattrFd(pfd, u.opts.OpaqueXattr, []byte("y"))
	}
	if strings.HasPrefix(base, whiteoutMeta) { // aufs hard-link metadata: nothing for overlayfs
		return nil
	}
	name := strings.TrimPrefix(base, whiteoutPrefix)
	if err := removeExisting(pfd, name); err != nil {
		return err
	}
	// Since Linux 5.8 an unprivileged user may make this one device.
	return unix.Mknodat(pfd, name, unix.S_IFCHR, 0)
}

// setxattrFd sets an xattr on the file an O_PATH fd refers to, through
// its /proc/self/fd magic link (O_PATH fds have no fsetxattr).
func setxattrFd(fd int, name string, val []byte) error {
	return unix.Setxattr("/proc/self/fd/"+strconv.Itoa(fd), name, val, 0)
}

func (u *unpacker) dir(pfd int, base, rel string, hdr *tar.Header) error {
	err := unix.Mkdirat(pfd, base, 0o700)
	if err == unix.EEXIST {
		var st unix.Stat_t
		if err = unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if err = unix.Unlinkat(pfd, base, 0); err == nil {
				err = unix.Mkdirat(pfd, base, 0o700)
			}
		}
	}
	if err != nil {
		return err
	}
	fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return u.dirAttrs(fd, base, rel, hdr)
}

// dirAttrs sets a directory's owner, mode and xattrs now and its times
// at the end.
func (u *unpacker) dirAttrs(fd int, base, rel string, hdr *tar.Header) error {
	if fd == u.root { // an O_PATH fd: reopen it to change it
		var err error
		if fd, err = unix.Openat(u.root, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			return err
		}
		defer unix.Close(fd)
	}
	if err := u.fdAttrs(fd, hdr); err != nil {
		return err
	}
	u.dirs = append(u.dirs, dirTime{rel, hdr.ModTime})
	return nil
}

func (u *unpacker) file(pfd int, base string, hdr *tar.Header, body io.Reader) error {
	fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), base)
	defer f.Close()
	n, err := u.copyData(f, body)
	if err != nil {
		return err
	}
	u.size += n
	if err := u.fdAttrs(fd, hdr); err != nil {
		return err
	}
	return unix.Futimes(fd, timevals(hdr))
}

// fdAttrs sets owner, then mode (chown clears set-id bits), then xattrs.
func (u *unpacker) fdAttrs(fd int, hdr *tar.Header) error {
	if !u.opts.NoOwner {
		if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
			return u.chownError(hdr, err)
		}
	}
	if err := unix.Fchmod(fd, uint32(hdr.Mode&0o7777)); err != nil {
		return err
	}
	for name, val := range xattrs(hdr) {
		if u.opts.Rootless && (strings.HasPrefix(name, "trusted.") || strings.HasPrefix(name, "security.") && name != "security.capability") {
			continue
		}
		if err := unix.Fsetxattr(fd, name, []byte(val), 0); err != nil {
			return fmt.Errorf("xattr %s: %w", name, err)
		}
	}
	return nil
}

// chownError words a failed chown; in a user namespace EINVAL means an
// ID its maps do not cover.
func (u *unpacker) chownError(hdr *tar.Header, err error) error {
	if u.opts.Rootless && err == unix.EINVAL {
		return fmt.Errorf("chown %d:%d: the user namespace maps no such ID: the user needs a subordinate ID range that large (/etc/subuid, /etc/subgid; docs/rootless.md)", hdr.Uid, hdr.Gid)
	}
	return fmt.Errorf("chown %d:%d: %w", hdr.Uid, hdr.Gid, err)
}

// xattrs are the entry's extended attributes, without overlayfs's own:
// a layer must not forge opaque markers or redirects.
func xattrs(hdr *tar.Header) map[string]string {
	var out map[string]string
	for k, v := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok || strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.") {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = v
	}
	return out
}

// attrsAt sets the owner and times of something just made at pfd/base
// (a symlink or a special file), never following it.
func (u *unpacker) attrsAt(pfd int, base string, hdr *tar.Header) error {
	if !u.opts.NoOwner {
		if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return u.chownError(hdr, err)
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(hdr.AccessTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	if hdr.AccessTime.IsZero() {
		ts[0] = ts[1]
	}
	return unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// hardlink links base to an earlier entry of the layer; the target is
// resolved inside the root, and its last component is not followed.
func (u *unpacker) hardlink(pfd int, base string, hdr *tar.Header) error {
	target := clean(hdr.Linkname)
	if target == "" {
		return fmt.Errorf("hard link to the layer's root")
	}
	tfd, err := u.openDir(parentOf(target))
	if err != nil {
		return fmt.Errorf("hard link target %s: %w", hdr.Linkname, err)
	}
	defer unix.Close(tfd)
	if err := unix.Linkat(tfd, path.Base(target), pfd, base, 0); err != nil {
		return fmt.Errorf("hard link to %s: %w", hdr.Linkname, err)
	}
	return nil
}

func (u *unpacker) special(pfd int, base string, hdr *tar.Header) error {
	mode := uint32(unix.S_IFIFO)
	switch hdr.Typeflag {
	case tar.TypeChar:
		mode = unix.S_IFCHR
	case tar.TypeBlock:
		mode = unix.S_IFBLK
	}
	if mode != unix.S_IFIFO && u.opts.NoDevices {
		return nil
	}
	dev := int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
	if err := unix.Mknodat(pfd, base, mode|0o600, dev); err != nil {
		return err
	}
	if err := u.attrsAt(pfd, base, hdr); err != nil {
		return err
	}
	// Just made by us, not a symlink: fchmodat cannot be led outside.
	return unix.Fchmodat(pfd, base, uint32(hdr.Mode&0o7777), 0)
}

func timevals(hdr *tar.Header) []unix.Timeval {
	at := hdr.AccessTime
	if at.IsZero() {
		at = hdr.ModTime
	}
	return []unix.Timeval{unix.NsecToTimeval(at.UnixNano()), unix.NsecToTimeval(hdr.ModTime.UnixNano())}
}

// dirTimes sets the directories' times, deepest last listed first.
func (u *unpacker) dirTimes() error {
	for i := len(u.dirs) - 1; i >= 0; i-- {
		d := u.dirs[i]
		fd, err := u.openDir(d.rel)
		if err != nil {
			if err == unix.ENOENT || err == unix.ENOTDIR { // replaced by a later entry
				continue
			}
			return err
		}
		ts := []unix.Timespec{unix.NsecToTimespec(d.mtime.UnixNano()), unix.NsecToTimespec(d.mtime.UnixNano())}
		err = unix.UtimesNanoAt(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), ts, 0)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("%s: times: %w", d.rel, err)
		}
	}
	return nil
}

// copyData copies an entry's data, refusing data the tar stream does not
// carry: Go's tar reader expands a sparse file's holes into zeros, so a
// few bytes of header (in whatever sparse dialect) could make terabytes.
func (u *unpacker) copyData(w io.Writer, body io.Reader) (int64, error) {
	start := u.raw.n
	buf := make([]byte, 64<<10)
	var n int64
	for {
		k, err := body.Read(buf)
		n += int64(k)
		if n > u.raw.n-start+1024 {
			return n, fmt.Errorf("%w: a sparse file (not allowed in a layer)", ErrBadTar)
		}
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return n, werr
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

// isSparse reports a GNU sparse entry, old format or PAX.
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}
