package box

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// applyLayer copies the unpacked layer src onto dst as overlayfs would
// show it on top: a 0:0 character device is a whiteout (the name is
// removed below), a directory marked opaque (trusted. or user.
// overlay.opaque = "y") hides what was below it. Ownership, modes,
// xattrs and hard links within the layer are kept.
func applyLayer(src, dst string) error {
	links := map[uint64]string{} // inode -> first path copied, for hard links
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		if err := copyEntry(p, target, rel, &st, links); err != nil {
			return fmt.Errorf("copy layer %s: %s: %w", src, rel, err)
		}
		return nil
	})
}

func copyEntry(p, target, rel string, st *unix.Stat_t, links map[uint64]string) error {
	mode := st.Mode & unix.S_IFMT
	if mode == unix.S_IFCHR && st.Rdev == 0 { // whiteout
		return os.RemoveAll(target)
	}
	if mode == unix.S_IFDIR {
		if rel != "." && isOpaque(p) {
			if err := os.RemoveAll(target); err != nil {
				return err
			}
		}
		if fi, err := os.Lstat(target); err == nil && !fi.IsDir() {
			os.Remove(target)
		}
		if err := os.Mkdir(target, 0o700); err != nil && !os.IsExist(err) {
			return err
		}
		return setMeta(p, target, st)
	}
	if fi, err := os.Lstat(target); err == nil {
		if fi.IsDir() {
			if err := os.RemoveAll(target); err != nil {
				return err
			}
		} else if err := os.Remove(target); err != nil {
			return err
		}
	}
	if st.Nlink > 1 && mode != unix.S_IFDIR {
		if first, ok := links[st.Ino]; ok {
			return os.Link(first, target)
		}
		links[st.Ino] = target
	}
	switch mode {
	case unix.S_IFREG:
		if err := copyFile(p, target); err != nil {
			return err
		}
	case unix.S_IFLNK:
		to, err := os.Readlink(p)
		if err != nil {
			return err
		}
		if err := os.Symlink(to, target); err != nil {
			return err
		}
	default: // devices, fifos, sockets
		if err := unix.Mknod(target, st.Mode, int(st.Rdev)); err != nil {
			return err
		}
	}
	return setMeta(p, target, st)
}

func isOpaque(p string) bool {
	b := make([]byte, 1)
	for _, x := range []string{"trusted.overlay.opaque", "user.overlay.opaque"} {
		if n, err := unix.Lgetxattr(p, x, b); err == nil && n == 1 && b[0] == 'y' {
			return true
		}
	}
	return false
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// setMeta copies owner, mode, xattrs (but overlayfs' own) and times.
func setMeta(src, dst string, st *unix.Stat_t) error {
	if err := unix.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Chmod(dst, st.Mode&07777); err != nil {
			return err
		}
	}
	copyXattrs(src, dst)
	ts := []unix.Timespec{st.Atim, st.Mtim}
	return unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func copyXattrs(src, dst string) {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(src, buf)
	if err != nil || n <= 0 {
		return
	}
	val := make([]byte, 65536)
	for _, name := range splitNul(buf[:n]) {
		if name == "trusted.overlay.opaque" || name == "user.overlay.opaque" {
			continue
		}
		if m, err := unix.Lgetxattr(src, name, val); err == nil {
			unix.Lsetxattr(dst, name, val[:m], 0)
		}
	}
}

func splitNul(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			if i > start {
				out = append(out, string(b[start:i]))
			}
			start = i + 1
		}
	}
	return out
}
