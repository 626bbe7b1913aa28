package box

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"hako/internal/trace"
)

// ErrNotFound: no container has that name or ID (prefix).
var ErrNotFound = errors.New("no such container")

// ErrNameInUse: --name is taken.
var ErrNameInUse = errors.New("name already in use")

var (
	bucketCtrs = []byte("containers") // ID -> Container JSON
	bucketName = []byte("names")      // name -> ID
)

// Store is the container database under root/containers.
type Store struct {
	Dir string     // root/containers
	Log *trace.Log // each commit is a step (nil: untraced)
}

// NewStore returns the store under hk's root, creating its directory.
func NewStore(root string) (*Store, error) {
	dir := filepath.Join(root, "containers")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Store{Dir: dir}, nil
}

// CtrDir is container id's directory.
func (s *Store) CtrDir(id string) string { return filepath.Join(s.Dir, id) }

func (s *Store) open(readOnly bool) (*bolt.DB, error) {
	db, err := bolt.Open(filepath.Join(s.Dir, "containers.db"), 0o600, &bolt.Options{Timeout: 30 * time.Second, ReadOnly: readOnly && s.exists()})
	if err != nil {
		return nil, fmt.Errorf("open container database %s: %w", s.Dir, err)
	}
	return db, nil
}

func (s *Store) exists() bool {
	_, err := os.Stat(filepath.Join(s.Dir, "containers.db"))
	return err == nil
}

func (s *Store) update(what string, fn func(tx *bolt.Tx) error) error {
	return s.Log.Step("db commit", filepath.Join(s.Dir, "containers.db")+" ("+what+")", func() error { return s.commit(fn) })
}

func (s *Store) commit(fn func(tx *bolt.Tx) error) error {
	db, err := s.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	// Every commit costs two fdatasyncs: the buckets are made in the
	// same transaction as the first write, not in one of their own.
	return db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketCtrs, bucketName} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	if !s.exists() {
		return fn(nil)
	}
	db, err := s.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketCtrs) == nil {
			return fn(nil) // made, never written
		}
		return fn(tx)
	})
}

// NewID is a Docker-style container ID: 64 hex digits of randomness.
func NewID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Short is the 12-digit form ps shows.
func Short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Add records c, new, under its name (a generated one when empty).
func (s *Store) Add(c *Container) error {
	return s.update("add "+c.ID, func(tx *bolt.Tx) error {
		names := tx.Bucket(bucketName)
		if c.Name == "" {
			for {
				c.Name = generateName()
				if names.Get([]byte(c.Name)) == nil {
					break
				}
			}
		}
		if old := names.Get([]byte(c.Name)); old != nil {
			return fmt.Errorf("the container name %q is already in use by container %q: remove (or rename) that container to be able to reuse that name: %w", "/"+c.Name, string(old), ErrNameInUse)
		}
		if err := names.Put([]byte(c.Name), []byte(c.ID)); err != nil {
			return err
		}
		return put(tx, c)
	})
}

func put(tx *bolt.Tx, c *Container) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketCtrs).Put([]byte(c.ID), b)
}

// Get finds a container by name, full ID or a unique ID prefix.
func (s *Store) Get(ref string) (*Container, error) {
	var c *Container
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		c, err = find(tx, ref)
		return err
	})
	return c, err
}

func find(tx *bolt.Tx, ref string) (*Container, error) {
	ref = strings.TrimPrefix(ref, "/")
	if tx == nil || ref == "" {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	ctrs := tx.Bucket(bucketCtrs)
	id := tx.Bucket(bucketName).Get([]byte(ref))
	if id == nil && isHex(ref) {
		cur := ctrs.Cursor()
		for k, _ := cur.Seek([]byte(ref)); k != nil && strings.HasPrefix(string(k), ref); k, _ = cur.Next() {
			if id != nil {
				return nil, fmt.Errorf("multiple containers match the ID prefix %q", ref)
			}
			id = k
		}
	}
	if id == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	var c Container
	if err := json.Unmarshal(ctrs.Get(id), &c); err != nil {
		return nil, fmt.Errorf("container %s: corrupt record: %w", id, err)
	}
	return &c, nil
}

func isHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// Update changes container ref's record with fn, atomically.
func (s *Store) Update(ref string, fn func(*Container) error) (*Container, error) {
	var c *Container
	err := s.update("update "+ref, func(tx *bolt.Tx) error {
		var err error
		if c, err = find(tx, ref); err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
		return put(tx, c)
	})
	return c, err
}

// Remove forgets container id (its name is free again).
func (s *Store) Remove(id string) error {
	return s.update("remove "+id, func(tx *bolt.Tx) error {
		c, err := find(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketName).Delete([]byte(c.Name)); err != nil {
			return err
		}
		return tx.Bucket(bucketCtrs).Delete([]byte(c.ID))
	})
}

// List returns every container, newest first.
func (s *Store) List() ([]*Container, error) {
	var out []*Container
	err := s.view(func(tx *bolt.Tx) error {
		if tx == nil {
			return nil
		}
		return tx.Bucket(bucketCtrs).ForEach(func(k, v []byte) error {
			var c Container
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("container %s: corrupt record: %w", k, err)
			}
			out = append(out, &c)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, err
}
