package image

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Image is one image of the store.
type Image struct {
	ID               string   // "sha256:<hex>", the digest of the config blob (Docker's image ID)
	Names            []string // normalised references: "docker.io/library/busybox:latest"
	Digest           string   // the manifest's digest when it came from a registry or archive, else ""
	RepoDigests      []string // repo@digest names
	Config           Config   // the runnable part of the image config
	Layers           []string // absolute paths of the unpacked layer directories, BOTTOM FIRST
	DiffIDs          []string // the layers' uncompressed digests, bottom first
	LayerBlobs       []string // the stored blobs of the layers, bottom first ("" where none is kept)
	Created          time.Time
	Added            time.Time // when this store got it
	Size             int64     // bytes of the unpacked layers
	OS, Architecture string
	RawConfig        []byte // the config blob as it is
	Holders          []string
}

// Config has the fields (and JSON names) of image-spec's ImageConfig
// that running needs.
type Config struct {
	User         string              `json:"User,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	Volumes      map[string]struct{} `json:"Volumes,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
}

// configFile is the part of an image config blob the store reads.
type configFile struct {
	Created      time.Time `json:"created"`
	OS           string    `json:"os"`
	Architecture string    `json:"architecture"`
	Config       Config    `json:"config"`
	RootFS       struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

func parseConfig(b []byte) (*configFile, error) {
	var c configFile
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	if c.RootFS.Type != "layers" {
		return nil, fmt.Errorf("image config: rootfs type %q, want \"layers\"", c.RootFS.Type)
	}
	for _, d := range c.RootFS.DiffIDs {
		if !validDigest(d) {
			return nil, fmt.Errorf("image config: layer diff ID %q is not sha256:<64 hex>", d)
		}
	}
	return &c, nil
}

// record is an image in meta.db.
type record struct {
	ID          string
	Names       []string
	Digest      string
	RepoDigests []string
	Blobs       []string // every blob of the image: config, manifest, layers
	LayerBlobs  []string // the layers' blobs, bottom first ("" where none is kept)
	Size        int64
	Added       time.Time
	Config      json.RawMessage
}

type layerRecord struct {
	Size int64
}

func getRecord(tx *bolt.Tx, idHex string) (*record, error) {
	v := tx.Bucket(bImages).Get([]byte(idHex))
	if v == nil {
		return nil, ErrNotFound
	}
	var r record
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("image %s: corrupt record: %w", idHex, err)
	}
	return &r, nil
}

func putRecord(tx *bolt.Tx, r *record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Bucket(bImages).Put([]byte(hexOf(r.ID)), b)
}

// image builds the Image of a record.
func (s *Store) image(tx *bolt.Tx, r *record) (*Image, error) {
	c, err := parseConfig(r.Config)
	if err != nil {
		return nil, err
	}
	img := &Image{
		ID: r.ID, Names: r.Names, Digest: r.Digest, RepoDigests: r.RepoDigests,
		Config: c.Config, DiffIDs: c.RootFS.DiffIDs, Created: c.Created, Added: r.Added,
		Size: r.Size, OS: c.OS, Architecture: c.Architecture, RawConfig: r.Config,
		LayerBlobs: r.LayerBlobs,
	}
	for _, d := range c.RootFS.DiffIDs {
		img.Layers = append(img.Layers, s.layerRoot(d))
	}
	if hb := tx.Bucket(bHolds).Bucket([]byte(hexOf(r.ID))); hb != nil {
		hb.ForEach(func(k, _ []byte) error { img.Holders = append(img.Holders, string(k)); return nil })
	}
	return img, nil
}

// layerRoot is the directory containers use as the layer's lowerdir.
func (s *Store) layerRoot(diffID string) string { return s.LayerDir(diffID) + "/diff" }

// Get finds an image by reference ("busybox", "busybox:1.36",
// "docker.io/library/busybox:latest", "name@sha256:<hex>"), by ID
// "sha256:<hex>", or by a unique prefix of the ID's hex.
func (s *Store) Get(ref string) (*Image, error) {
	var img *Image
	err := s.view(func(tx *bolt.Tx) error {
		idHex, err := resolve(tx, ref)
		if err != nil {
			return err
		}
		r, err := getRecord(tx, idHex)
		if err != nil {
			return err
		}
		img, err = s.image(tx, r)
		return err
	})
	return img, err
}

// resolve finds the ID hex of ref: a name first, then an ID or a prefix.
func resolve(tx *bolt.Tx, ref string) (string, error) {
	if rf, err := ParseRef(ref); err == nil {
		key := rf.Repo() + ":" + rf.Tag
		if rf.Digest != "" {
			key = rf.Repo() + "@" + rf.Digest
		}
		if v := tx.Bucket(bNames).Get([]byte(key)); v != nil {
			return string(v), nil
		}
	}
	prefix := strings.TrimPrefix(ref, "sha256:")
	if !isHex(prefix) || len(prefix) > 64 {
		return "", fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	var found []string
	c := tx.Bucket(bImages).Cursor()
	for k, _ := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, _ = c.Next() {
		found = append(found, string(k))
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w: %s", ErrNotFound, ref)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%w: %s matches %d images", ErrAmbiguous, ref, len(found))
}

// List is every image, newest first.
func (s *Store) List() ([]*Image, error) {
	var out []*Image
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bImages).ForEach(func(k, _ []byte) error {
			r, err := getRecord(tx, string(k))
			if err != nil {
				return err
			}
			img, err := s.image(tx, r)
			if err != nil {
				return err
			}
			out = append(out, img)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

// Tag gives the image src the name ref (taking it from any image that
// had it).
func (s *Store) Tag(src, ref string) (string, error) {
	rf, err := ParseRef(ref)
	if err != nil {
		return "", err
	}
	if rf.Digest != "" {
		return "", fmt.Errorf("tag %s: a tag cannot have a digest", ref)
	}
	name := rf.String()
	return name, s.update(func(tx *bolt.Tx) error {
		idHex, err := resolve(tx, src)
		if err != nil {
			return err
		}
		return setName(tx, name, idHex)
	})
}

// setName points name at the image idHex, taking it from its last owner.
func setName(tx *bolt.Tx, name, idHex string) error {
	names := tx.Bucket(bNames)
	if old := names.Get([]byte(name)); old != nil && string(old) != idHex {
		if r, err := getRecord(tx, string(old)); err == nil {
			r.Names = without(r.Names, name)
			r.RepoDigests = without(r.RepoDigests, name)
			if err := putRecord(tx, r); err != nil {
				return err
			}
		}
	}
	r, err := getRecord(tx, idHex)
	if err != nil {
		return err
	}
	if strings.Contains(name, "@") {
		r.RepoDigests = with(r.RepoDigests, name)
	} else {
		r.Names = with(r.Names, name)
	}
	if err := names.Put([]byte(name), []byte(idHex)); err != nil {
		return err
	}
	return putRecord(tx, r)
}

func with(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func without(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// Hold records that container uses image id: rmi then refuses (untags
// only, with force). Idempotent.
func (s *Store) Hold(id, container string) error {
	return s.update(func(tx *bolt.Tx) error {
		idHex, err := resolve(tx, id)
		if err != nil {
			return err
		}
		b, err := tx.Bucket(bHolds).CreateBucketIfNotExists([]byte(idHex))
		if err != nil {
			return err
		}
		return b.Put([]byte(container), nil)
	})
}

// Release forgets that container uses image id. Idempotent: an image or
// hold that is gone is not an error.
func (s *Store) Release(id, container string) error {
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bHolds).Bucket([]byte(hexOf(id)))
		if b == nil {
			return nil
		}
		if err := b.Delete([]byte(container)); err != nil {
			return err
		}
		if k, _ := b.Cursor().First(); k == nil {
			return tx.Bucket(bHolds).DeleteBucket([]byte(hexOf(id)))
		}
		return nil
	})
}
