package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// Layer is a layer to add: its uncompressed digest and how to read it.
type Layer struct {
	DiffID string // "sha256:<hex>" of the uncompressed tar, as the config says
	Blob   string // digest of the stored blob it comes from ("" if none is kept)
	// Open gives the uncompressed tar; called only when the layer is not
	// unpacked yet.
	Open func() (io.ReadCloser, error)
}

// New is an image to add.
type New struct {
	Config   []byte   // the config blob
	Manifest []byte   // the manifest blob, or nil (import): its digest is Image.Digest
	Layers   []Layer  // bottom first, one per diff ID of the config
	Names    []string // references to give it ("busybox:1.36")
	// Repo is the repository name@digest is recorded under (pull by tag or
	// digest); "" for none.
	Repo string
	// Digest is what the registry calls the image when that is not the
	// manifest's digest: a multi-arch index's (Docker's RepoDigest).
	Digest string
	// Parallel is how many layers to unpack at once (0: 1).
	Parallel int
}

// Adding takes the store lock shared for the length of a pull or load:
// nothing is deleted while it is held, so blobs and layers that are in
// place but not yet recorded stay. The caller must call the returned func.
func (s *Store) Adding() (func(), error) { return s.lock(unix.LOCK_SH) }

// Add unpacks the image's missing layers, stores its config (and
// manifest), and then, in one transaction, records it under its names:
// until that commit no command sees it.
func (s *Store) Add(n New) (*Image, error) {
	names, err := n.check()
	if err != nil {
		return nil, err
	}
	unlock, err := s.Adding()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := s.unpackAll(n.Layers, n.Parallel); err != nil {
		return nil, err
	}
	rec, err := s.putBlobs(n)
	if err != nil {
		return nil, err
	}
	if n.Manifest != nil && n.Repo != "" {
		names = append(names, n.Repo+"@"+rec.Digest)
	}
	var img *Image
	err = s.Log.Step("record image", rec.ID+" "+strings.Join(names, " "), func() error {
		return s.update(func(tx *bolt.Tx) error {
			var err error
			img, err = s.record(tx, rec, n.Layers, names)
			return err
		})
	})
	return img, err
}

// check validates the image to add against its config and returns its
// names, normalised.
func (n *New) check() ([]string, error) {
	c, err := parseConfig(n.Config)
	if err != nil {
		return nil, err
	}
	if len(c.RootFS.DiffIDs) != len(n.Layers) {
		return nil, fmt.Errorf("image config lists %d layers, the manifest %d", len(c.RootFS.DiffIDs), len(n.Layers))
	}
	for i, l := range n.Layers {
		if l.DiffID != c.RootFS.DiffIDs[i] {
			return nil, fmt.Errorf("layer %d: diff ID %s, the config says %s", i, l.DiffID, c.RootFS.DiffIDs[i])
		}
	}
	var names []string
	for _, ref := range n.Names {
		rf, err := ParseRef(ref)
		if err != nil {
			return nil, err
		}
		names = append(names, rf.String())
	}
	return names, nil
}

// putBlobs stores the config and manifest blobs and returns the record
// the image will have.
func (s *Store) putBlobs(n New) (*record, error) {
	rec := &record{Added: time.Now().UTC(), Config: n.Config}
	id, _, err := s.PutBlob("", bytesReader(n.Config))
	if err != nil {
		return nil, err
	}
	rec.ID = id
	rec.Blobs = append(rec.Blobs, id)
	if n.Manifest != nil {
		if rec.Digest, _, err = s.PutBlob("", bytesReader(n.Manifest)); err != nil {
			return nil, err
		}
		rec.Blobs = append(rec.Blobs, rec.Digest)
		if n.Digest != "" {
			rec.Digest = n.Digest
		}
	}
	for _, l := range n.Layers {
		if l.Blob != "" {
			rec.Blobs = append(rec.Blobs, l.Blob)
		}
		rec.LayerBlobs = append(rec.LayerBlobs, l.Blob)
	}
	return rec, nil
}

// record writes the image's record, its layers' and its names (the
// commit point of Add).
func (s *Store) record(tx *bolt.Tx, rec *record, layers []Layer, names []string) (*Image, error) {
	idHex := hexOf(rec.ID)
	if old, err := getRecord(tx, idHex); err == nil { // the same image again: keep its names
		rec.Names, rec.RepoDigests, rec.Added = old.Names, old.RepoDigests, old.Added
		rec.Blobs = union(old.Blobs, rec.Blobs)
		if rec.Digest == "" {
			rec.Digest = old.Digest
		}
	}
	for _, l := range layers {
		size, err := s.layerSize(l.DiffID)
		if err != nil {
			return nil, err
		}
		rec.Size += size
		b, _ := json.Marshal(layerRecord{Size: size})
		if err := tx.Bucket(bLayers).Put([]byte(hexOf(l.DiffID)), b); err != nil {
			return nil, err
		}
	}
	if err := putRecord(tx, rec); err != nil {
		return nil, err
	}
	for _, name := range names {
		if err := setName(tx, name, idHex); err != nil {
			return nil, err
		}
	}
	r, err := getRecord(tx, idHex)
	if err != nil {
		return nil, err
	}
	return s.image(tx, r)
}

func union(a, b []string) []string {
	for _, x := range b {
		a = with(a, x)
	}
	return a
}

// TempDir makes a directory in the store's tmp, removed by the next
// command that finds the store idle if this one dies; the caller removes
// it when done (RemoveTemp).
func (s *Store) TempDir(what string) (string, error) {
	d := s.tmpName(what)
	return d, os.Mkdir(d, 0o700)
}

// RemoveTemp removes what TempDir made.
func (s *Store) RemoveTemp(dir string) error { return removeAll(dir) }

// HasLayer reports whether the layer with this diff ID is unpacked.
func (s *Store) HasLayer(diffID string) bool {
	_, err := os.Stat(s.LayerDir(diffID) + "/size")
	return err == nil
}

func (s *Store) layerSize(diffID string) (int64, error) {
	b, err := os.ReadFile(s.LayerDir(diffID) + "/size")
	if err != nil {
		return 0, fmt.Errorf("layer %s: %w", diffID, err)
	}
	return strconv.ParseInt(string(b), 10, 64)
}

// unpackAll unpacks the layers not yet in the store, up to parallel at
// once.
func (s *Store) unpackAll(layers []Layer, parallel int) error {
	if parallel < 1 {
		parallel = 1
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	errs := make([]error, len(layers))
	seen := map[string]bool{}
	for i, l := range layers {
		if seen[l.DiffID] || s.HasLayer(l.DiffID) {
			continue
		}
		seen[l.DiffID] = true
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = s.unpackLayer(l)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// unpackLayer unpacks one layer into tmp, checks its digest, and renames
// it into layers/ whole. Another command that published the same layer
// first wins; this copy is dropped.
func (s *Store) unpackLayer(l Layer) error {
	final := s.LayerDir(l.DiffID)
	tmp := s.tmpName("layer")
	if err := os.MkdirAll(tmp+"/diff", 0o755); err != nil {
		return err
	}
	err := s.Log.Step("unpack layer", l.DiffID+" into "+final, func() error {
		rc, err := l.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		h := sha256.New()
		tee := io.TeeReader(rc, h)
		size, err := Unpack(tmp+"/diff", tee, s.UnpackOptions)
		if err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, tee); err != nil { // the tar's padding after its end
			return err
		}
		if got := digestOf(h); got != l.DiffID {
			return fmt.Errorf("%w: layer content is %s, the image says %s", ErrDigest, got, l.DiffID)
		}
		if err := os.WriteFile(tmp+"/size", []byte(strconv.FormatInt(size, 10)), 0o600); err != nil {
			return err
		}
		err = os.Rename(tmp, final)
		if errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOTEMPTY) {
			return removeAll(tmp) // published meanwhile by another command
		}
		return err
	})
	if err != nil {
		removeAll(tmp)
		return fmt.Errorf("layer %s: %w", l.DiffID, err)
	}
	return nil
}

// ErrDigest: content does not match its digest.
var ErrDigest = errors.New("digest mismatch")

func digestOf(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

// PutBlob stores what r gives as a blob, checking it against want
// ("sha256:<hex>"; "" to take what comes), and returns its digest and
// size. A blob already present is kept (r is still read, to check it).
func (s *Store) PutBlob(want string, r io.Reader) (string, int64, error) {
	d, n, _, err := s.PutNewBlob(want, r)
	return d, n, err
}

// PutNewBlob is PutBlob that also says whether the blob was not there
// before (so that a command that fails can remove what it added).
func (s *Store) PutNewBlob(want string, r io.Reader) (digest string, size int64, added bool, err error) {
	tmp := s.tmpName("blob")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", 0, false, err
	}
	defer os.Remove(tmp)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, false, err
	}
	got := digestOf(h)
	if want != "" && got != want {
		return "", 0, false, fmt.Errorf("%w: blob content is %s, want %s", ErrDigest, got, want)
	}
	added = !s.HasBlob(got)
	return got, n, added, os.Rename(tmp, s.BlobPath(got))
}

// HasBlob reports whether the blob is stored.
func (s *Store) HasBlob(digest string) bool {
	_, err := os.Stat(s.BlobPath(digest))
	return err == nil
}
