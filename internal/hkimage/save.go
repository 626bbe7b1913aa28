package hkimage

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"hako/internal/hkcli"
	"hako/internal/image"
)

func init() { hkcli.Register(saveCmd) }

func saveCmd(env *hkcli.Env) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "save [OPTIONS] IMAGE [IMAGE...]",
		Short: "Save one or more images to a tar archive (streamed to STDOUT by default)",
		Long: "Save images as one tar that is both a `docker save` archive (manifest.json) and an\n" +
			"OCI image layout (index.json, blobs/): docker load, podman load and hk load read it.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if output == "" && isTerminal(os.Stdout) {
				return errors.New("save: refusing to write an archive to a terminal: use -o FILE or redirect")
			}
			s, err := hkcli.ImageStore(env)
			if err != nil {
				return err
			}
			defer s.Close()
			var imgs []*image.Image
			for _, ref := range args {
				img, err := s.Get(ref)
				if err != nil {
					return err
				}
				imgs = append(imgs, img)
			}
			if output == "" {
				return save(s, imgs, os.Stdout)
			}
			tmp := output + ".hk-tmp"
			f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			err = save(s, imgs, f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Rename(tmp, output)
			}
			if err != nil {
				os.Remove(tmp)
			}
			return err
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "", "write to a file, instead of STDOUT")
	return c
}

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// archive is a tar being written: each blob once.
type archive struct {
	tw      *tar.Writer
	s       *image.Store
	written map[string]bool
}

func (a *archive) bytes(name string, b []byte) error {
	if err := a.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := a.tw.Write(b)
	return err
}

// blob copies a stored blob in, unless it is in already.
func (a *archive) blob(digest string) error {
	if a.written[digest] {
		return nil
	}
	a.written[digest] = true
	f, err := os.Open(a.s.BlobPath(digest))
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := a.tw.WriteHeader(&tar.Header{Name: blobName(digest), Mode: 0o644, Size: fi.Size(), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err = io.Copy(a.tw, f)
	return err
}

// image writes one image's blobs and manifest and returns its docker
// save entry and its OCI index descriptors (one per name).
func (a *archive) image(img *image.Image) (dockerEntry, []ociDescriptor, error) {
	entry := dockerEntry{Config: blobName(img.ID)}
	mb, layers, err := ociManifest(a.s, img)
	if err != nil {
		return entry, nil, err
	}
	if err := a.blob(img.ID); err != nil {
		return entry, nil, fmt.Errorf("%s: config: %w", img.ID, err)
	}
	for _, l := range layers {
		if err := a.blob(l.Digest); err != nil {
			return entry, nil, fmt.Errorf("%s: layer %s: %w", img.ID, l.Digest, err)
		}
		entry.Layers = append(entry.Layers, blobName(l.Digest))
	}
	sum := sha256.Sum256(mb)
	md := "sha256:" + hex.EncodeToString(sum[:])
	if !a.written[md] {
		a.written[md] = true
		if err := a.bytes(blobName(md), mb); err != nil {
			return entry, nil, err
		}
	}
	desc := ociDescriptor{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: md, Size: int64(len(mb))}
	if len(img.Names) == 0 {
		return entry, []ociDescriptor{desc}, nil
	}
	var index []ociDescriptor
	for _, n := range img.Names {
		entry.RepoTags = append(entry.RepoTags, image.ShortRepo(n))
		d := desc
		d.Annotations = map[string]string{"io.containerd.image.name": n, "org.opencontainers.image.ref.name": n}
		index = append(index, d)
	}
	return entry, index, nil
}

// save writes imgs as one archive with both formats over the same blobs.
func save(s *image.Store, imgs []*image.Image, w io.Writer) error {
	a := &archive{tw: tar.NewWriter(w), s: s, written: map[string]bool{}}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		a.tw.WriteHeader(&tar.Header{Name: d, Mode: 0o755, Typeflag: tar.TypeDir, ModTime: time.Unix(0, 0)})
	}
	index := []ociDescriptor{}
	var docker []dockerEntry
	for _, img := range imgs {
		entry, descs, err := a.image(img)
		if err != nil {
			return err
		}
		docker = append(docker, entry)
		index = append(index, descs...)
	}
	ib, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": index})
	db, _ := json.Marshal(docker)
	for _, f := range []struct {
		name string
		b    []byte
	}{{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)}, {"index.json", ib}, {"manifest.json", db}} {
		if err := a.bytes(f.name, f.b); err != nil {
			return err
		}
	}
	return a.tw.Close()
}

func blobName(digest string) string { return "blobs/sha256/" + digest[len("sha256:"):] }

// layerMediaType is the OCI media type of a stored layer blob, by its
// magic bytes.
func layerMediaType(path string) string {
	magic := make([]byte, 4)
	if f, err := os.Open(path); err == nil {
		io.ReadFull(f, magic)
		f.Close()
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return "application/vnd.oci.image.layer.v1.tar+gzip"
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "application/vnd.oci.image.layer.v1.tar+zstd"
	}
	return "application/vnd.oci.image.layer.v1.tar"
}
