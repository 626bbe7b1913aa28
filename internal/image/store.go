package image

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"

	"hako/internal/trace"
)

// ErrNotFound: no image matches the reference or ID.
var ErrNotFound = errors.New("no such image")

// ErrInUse: the image is held by a container (rmi without -f).
var ErrInUse = errors.New("image is in use by a container")

// ErrAmbiguous: an ID prefix matches more than one image.
var ErrAmbiguous = errors.New("ambiguous image ID prefix")

// Buckets of meta.db.
var (
	bImages = []byte("images") // id hex -> record (JSON)
	bNames  = []byte("names")  // normalised reference -> id hex
	bHolds  = []byte("holds")  // id hex -> bucket: container -> ""
	bLayers = []byte("layers") // diff hex -> layerRecord (JSON)
)

// Store is an image store under root/image.
type Store struct {
	dir string     // root/image
	Log *trace.Log // steps of unpacking and removal (nil: untraced)
	// UnpackOptions: how layers are unpacked (rootless: no devices, user xattrs).
	UnpackOptions UnpackOptions
}

// Open opens (creating if needed) the store under root (hk's --root).
func Open(root string) (*Store, error) {
	s := &Store{dir: filepath.Join(root, "image")}
	// The common case costs one stat: a store that exists is used as it
	// is (a write transaction here would be an fsync in every `hk run`).
	if _, err := os.Stat(s.path("meta.db")); err != nil {
		for _, d := range []string{s.dir, s.path("blobs", "sha256"), s.path("layers"), s.path("tmp")} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return nil, fmt.Errorf("image store: %w", err)
			}
		}
		if err := s.update(func(tx *bolt.Tx) error { return nil }); err != nil {
			return nil, err
		}
	}
	s.cleanTmp()
	return s, nil
}

// Close releases the store. The database is opened per transaction, so
// there is nothing to flush.
func (s *Store) Close() error { return nil }

// Dir is root/image.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.dir}, elem...)...)
}

// LayerDir is where the layer with this diff ID (sha256:<hex>) is, once
// unpacked.
func (s *Store) LayerDir(diffID string) string {
	return s.path("layers", hexOf(diffID))
}

// BlobPath is where the blob with this digest is.
func (s *Store) BlobPath(digest string) string {
	return s.path("blobs", "sha256", hexOf(digest))
}

func hexOf(digest string) string {
	if h, ok := cutSHA(digest); ok {
		return h
	}
	return digest
}

func cutSHA(d string) (string, bool) {
	const p = "sha256:"
	if len(d) > len(p) && d[:len(p)] == p {
		return d[len(p):], true
	}
	return "", false
}

// db opens meta.db for one transaction: bbolt locks the file for as long
// as it is open (exclusive for writers, shared for readers), so holding it
// across a pull would stop every other command.
func (s *Store) db(readOnly bool) (*bolt.DB, error) {
	db, err := bolt.Open(s.path("meta.db"), 0o600, &bolt.Options{Timeout: 60 * time.Second, ReadOnly: readOnly})
	if err != nil {
		return nil, fmt.Errorf("open image database %s: %w", s.path("meta.db"), err)
	}
	return db, nil
}

func (s *Store) update(fn func(*bolt.Tx) error) error {
	db, err := s.db(false)
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bImages, bNames, bHolds, bLayers} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return fn(tx)
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

func (s *Store) view(fn func(*bolt.Tx) error) error {
	db, err := s.db(true)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(fn)
}

// lock takes the store lock: shared (LOCK_SH) to add, exclusive to
// delete layers and blobs or to clean tmp. The returned func releases it.
func (s *Store) lock(how int) (func(), error) {
	fd, err := unix.Open(s.path("lock"), unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("image store lock: %w", err)
	}
	for {
		err = unix.Flock(fd, how)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return func() { unix.Close(fd) }, nil
}

// cleanTmp removes what killed commands left in tmp, when no other
// command is adding or deleting (the lock is free).
func (s *Store) cleanTmp() {
	if f, err := os.Open(s.path("tmp")); err == nil {
		names, _ := f.Readdirnames(1)
		f.Close()
		if len(names) == 0 {
			return
		}
	}
	unlock, err := s.lock(unix.LOCK_EX | unix.LOCK_NB)
	if err != nil {
		return
	}
	defer unlock()
	s.removeTmpLocked()
}

func (s *Store) removeTmpLocked() {
	ents, _ := os.ReadDir(s.path("tmp"))
	for _, e := range ents {
		p := s.path("tmp", e.Name())
		s.Log.Step("remove leftover", p, func() error { return removeAll(p) })
	}
}

// tmpName is a fresh name in tmp.
func (s *Store) tmpName(what string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return s.path("tmp", what+"-"+hex.EncodeToString(b))
}

// removeAll is os.RemoveAll that first makes directories writable (a
// layer may hold a directory with mode 0500, which root ignores but an
// ordinary user does not).
func removeAll(p string) error {
	err := os.RemoveAll(p)
	if err == nil || os.Geteuid() == 0 {
		return err
	}
	filepath.WalkDir(p, func(q string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(q, 0o700)
		}
		return nil
	})
	return os.RemoveAll(p)
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
