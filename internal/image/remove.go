package image

import (
	"fmt"
	"os"
	"strconv"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// Removed is what Remove or Prune did, in Docker's words: the names
// untagged and the image IDs deleted.
type Removed struct {
	Untagged  []string
	Deleted   []string
	Reclaimed int64 // bytes of the layers removed
}

// Remove removes ref as `docker rmi` does: a name is untagged, and the
// image goes with its last name; an ID removes the image (with force even
// when it has several names). An image held by a container is refused,
// or with force only untagged (its layers stay until the hold is released
// and the image pruned: a container's overlay may be using them).
func (s *Store) Remove(ref string, force bool) (Removed, error) {
	unlock, err := s.lock(unix.LOCK_EX)
	if err != nil {
		return Removed{}, err
	}
	defer unlock()
	var out Removed
	err = s.update(func(tx *bolt.Tx) error {
		idHex, err := resolve(tx, ref)
		if err != nil {
			return err
		}
		r, err := getRecord(tx, idHex)
		if err != nil {
			return err
		}
		byName := tx.Bucket(bNames).Get([]byte(canonical(ref))) != nil
		if byName {
			name := canonical(ref)
			out.Untagged = append(out.Untagged, name)
			if err := untag(tx, r, name); err != nil {
				return err
			}
			if len(r.Names) > 0 {
				return putRecord(tx, r)
			}
		} else if len(r.Names) > 1 && !force {
			return fmt.Errorf("conflict: unable to delete %s (must be forced): image is referenced in multiple repositories", short(idHex))
		}
		held := tx.Bucket(bHolds).Bucket([]byte(idHex)) != nil
		if held && !force {
			return fmt.Errorf("conflict: unable to remove %s (must be forced): %w", ref, ErrInUse)
		}
		for _, n := range append(r.Names, r.RepoDigests...) {
			out.Untagged = append(out.Untagged, n)
			if err := untag(tx, r, n); err != nil {
				return err
			}
		}
		if held {
			return putRecord(tx, r)
		}
		out.Deleted = append(out.Deleted, r.ID)
		return tx.Bucket(bImages).Delete([]byte(idHex))
	})
	if err != nil {
		return Removed{}, err
	}
	out.Reclaimed, err = s.gcLocked()
	return out, err
}

// canonical is the normalised form of a name (as the names bucket has it).
func canonical(ref string) string {
	rf, err := ParseRef(ref)
	if err != nil {
		return ref
	}
	if rf.Digest != "" {
		return rf.Repo() + "@" + rf.Digest
	}
	return rf.String()
}

func untag(tx *bolt.Tx, r *record, name string) error {
	r.Names = without(r.Names, name)
	r.RepoDigests = without(r.RepoDigests, name)
	return tx.Bucket(bNames).Delete([]byte(name))
}

func short(idHex string) string {
	if len(idHex) > 12 {
		return idHex[:12]
	}
	return idHex
}

// Prune removes images that no container holds: those without a name
// (dangling), or with all every one.
func (s *Store) Prune(all bool) (Removed, error) {
	unlock, err := s.lock(unix.LOCK_EX)
	if err != nil {
		return Removed{}, err
	}
	defer unlock()
	var out Removed
	err = s.update(func(tx *bolt.Tx) error {
		var doomed []*record
		err := tx.Bucket(bImages).ForEach(func(k, _ []byte) error {
			r, err := getRecord(tx, string(k))
			if err != nil {
				return err
			}
			if tx.Bucket(bHolds).Bucket(k) == nil && (all || len(r.Names) == 0) {
				doomed = append(doomed, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range doomed {
			for _, n := range append(r.Names, r.RepoDigests...) {
				out.Untagged = append(out.Untagged, n)
				if err := untag(tx, r, n); err != nil {
					return err
				}
			}
			out.Deleted = append(out.Deleted, r.ID)
			if err := tx.Bucket(bImages).Delete([]byte(hexOf(r.ID))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Removed{}, err
	}
	out.Reclaimed, err = s.gcLocked()
	return out, err
}

// gcLocked removes the layers and blobs no image records, and what killed
// commands left in tmp. The caller holds the store lock exclusive, so no
// command is adding: anything unrecorded is garbage.
func (s *Store) gcLocked() (reclaimed int64, err error) {
	s.removeTmpLocked()
	usedLayers, usedBlobs, err := s.inUse()
	if err != nil {
		return 0, err
	}
	n, err := s.sweep(s.path("layers"), usedLayers, true)
	if err != nil {
		return n, err
	}
	_, err = s.sweep(s.path("blobs", "sha256"), usedBlobs, false)
	return n, err
}

// inUse is the layers (diff hex) and blobs (hex) the images record; the
// records of layers no image has are dropped.
func (s *Store) inUse() (layers, blobs map[string]bool, err error) {
	layers, blobs = map[string]bool{}, map[string]bool{}
	err = s.update(func(tx *bolt.Tx) error {
		err := tx.Bucket(bImages).ForEach(func(k, _ []byte) error {
			r, err := getRecord(tx, string(k))
			if err != nil {
				return err
			}
			c, err := parseConfig(r.Config)
			if err != nil {
				return err
			}
			for _, d := range c.RootFS.DiffIDs {
				layers[hexOf(d)] = true
			}
			for _, b := range r.Blobs {
				blobs[hexOf(b)] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		var gone [][]byte
		tx.Bucket(bLayers).ForEach(func(k, _ []byte) error {
			if !layers[string(k)] {
				gone = append(gone, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range gone {
			if err := tx.Bucket(bLayers).Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return layers, blobs, err
}

// sweep removes the entries of dir that are not used, and returns the
// bytes of the layers among them. Each is renamed into tmp first: a layer
// directory is either whole in layers/ or gone, never half-removed there.
func (s *Store) sweep(dir string, used map[string]bool, isLayers bool) (reclaimed int64, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		if used[e.Name()] {
			continue
		}
		p, t := dir+"/"+e.Name(), s.tmpName("rm")
		if isLayers {
			if b, err := os.ReadFile(p + "/size"); err == nil {
				n, _ := strconv.ParseInt(string(b), 10, 64)
				reclaimed += n
			}
		}
		err := s.Log.Step("remove", p, func() error {
			if err := os.Rename(p, t); err != nil {
				return err
			}
			return removeAll(t)
		})
		if err != nil {
			return reclaimed, err
		}
	}
	return reclaimed, nil
}
