package seccomp

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// CompileCached is Compile with the result kept in dir (such as
// /run/hako/seccomp-cache) as <hash>.bpf, the way crun caches libseccomp's
// output, so that the next container with the same profile skips
// compilation. A cache file is used only if it is a regular file owned by
// this user, writable by no one else, and intact (checksum); otherwise the
// profile is compiled again. Failing to write the cache is a warning.
//
// See doc.go for whether it pays: with this compiler, barely.
func CompileCached(s *specs.LinuxSeccomp, dir string) (*Program, error) {
	if s == nil {
		return nil, errors.New("seccomp: no profile")
	}
	h := ProfileHash(s)
	path := filepath.Join(dir, h+".bpf")
	if p, err := readCache(path, h); err == nil {
		return p, nil
	}
	p, err := compileHashed(s, h)
	if err != nil {
		return nil, err
	}
	if err := writeCache(dir, path, p); err != nil {
		p.Warnings = append(p.Warnings, "seccomp cache: "+err.Error())
	}
	return p, nil
}

// cacheMagic starts every cache file; the version is in the hash too.
const cacheMagic = "HAKOBPF1"

// The cache file: magic, hash (64 hex), flags u32, notify u8, warning
// count u16 then each as u16 length + text, insn count u16 then each as
// code u16, jt u8, jf u8, k u32; then the SHA-256 of all that. Little-endian.
func encodeProgram(p *Program) []byte {
	b := append([]byte(cacheMagic), p.hash...)
	b = binary.LittleEndian.AppendUint32(b, uint32(p.Flags))
	b = append(b, boolByte(p.Notify))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(p.Warnings)))
	for _, w := range p.Warnings {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(w)))
		b = append(b, w...)
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(p.Filter)))
	for _, in := range p.Filter {
		b = binary.LittleEndian.AppendUint16(b, in.Code)
		b = append(b, in.Jt, in.Jf)
		b = binary.LittleEndian.AppendUint32(b, in.K)
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

var errBadCache = errors.New("malformed seccomp cache file")

// maxCacheFile bounds what readCache reads: 4096 insns and some warnings.
const maxCacheFile = 1 << 20

// decodeProgram reverses encodeProgram, refusing anything that is not
// exactly one intact program for hash.
func decodeProgram(b []byte, hash string) (*Program, error) {
	if len(b) < sha256.Size {
		return nil, errBadCache
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if want := sha256.Sum256(body); !bytes.Equal(sum, want[:]) {
		return nil, errBadCache
	}
	r := &reader{b: body}
	if string(r.next(len(cacheMagic))) != cacheMagic || string(r.next(len(hash))) != hash {
		return nil, errBadCache
	}
	p := &Program{hash: hash, Flags: uint(r.u32()), Notify: r.byte() == 1}
	for n := r.u16(); n > 0 && r.err == nil; n-- {
		p.Warnings = append(p.Warnings, string(r.next(int(r.u16()))))
	}
	n := int(r.u16())
	if n == 0 || n > maxInsns {
		return nil, errBadCache
	}
	p.Filter = make([]unix.SockFilter, n)
	for i := range p.Filter {
		p.Filter[i] = unix.SockFilter{Code: r.u16(), Jt: r.byte(), Jf: r.byte(), K: r.u32()}
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, errBadCache
	}
	return p, nil
}

// reader takes fields off a byte slice; running short sets err.
type reader struct {
	b   []byte
	err error
}

func (r *reader) next(n int) []byte {
	if n > len(r.b) {
		r.err, r.b = errBadCache, nil
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte  { return r.next(1)[0] }
func (r *reader) u16() uint16 { return binary.LittleEndian.Uint16(r.next(2)) }
func (r *reader) u32() uint32 { return binary.LittleEndian.Uint32(r.next(4)) }

// readCache loads a cached program. The file is opened without following
// symlinks and must belong to us and be writable by no one else: whoever
// can write it chooses the container's filter.
func readCache(path, hash string) (*Program, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != uint32(os.Geteuid()) || st.Mode&0o022 != 0 {
		return nil, fmt.Errorf("%s: not a private regular file", path)
	}
	if st.Size > maxCacheFile {
		return nil, fmt.Errorf("%s: %d bytes: %w", path, st.Size, errBadCache)
	}
	b := make([]byte, st.Size)
	if _, err := f.ReadAt(b, 0); err != nil {
		return nil, err
	}
	return decodeProgram(b, hash)
}

// writeCache stores p atomically (temp file + rename), so that a reader
// sees the whole file or none.
func writeCache(dir, path string, p *Program) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*.bpf")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails harmlessly after the rename
	if _, err := f.Write(encodeProgram(p)); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
