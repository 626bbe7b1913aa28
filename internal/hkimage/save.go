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

// save writes imgs as one archive with both formats over the same blobs.
func save(s *image.Store, imgs []*image.Image, w io.Writer) error {
	tw := tar.NewWriter(w)
	written := map[string]bool{}
	var index []ociDescriptor
	var docker []dockerEntry
	addBytes := func(name string, b []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	addBlob := func(digest string) (int64, error) {
		f, err := os.Open(s.BlobPath(digest))
		if err != nil {
			return 0, err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return 0, err
		}
		if written[digest] {
			return fi.Size(), nil
		}
		written[digest] = true
		if err := tw.WriteHeader(&tar.Header{Name: blobName(digest), Mode: 0o644, Size: fi.Size(), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}); err != nil {
			return 0, err
		}
		_, err = io.Copy(tw, f)
		return fi.Size(), err
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		tw.WriteHeader(&tar.Header{Name: d, Mode: 0o755, Typeflag: tar.TypeDir, ModTime: time.Unix(0, 0)})
	}
	for _, img := range imgs {
		mb, layers, err := ociManifest(s, img)
		if err != nil {
			return err
		}
		if _, err := addBlob(img.ID); err != nil {
			return fmt.Errorf("%s: config: %w", img.ID, err)
		}
		entry := dockerEntry{Config: blobName(img.ID)}
		for _, l := range layers {
			if _, err := addBlob(l.Digest); err != nil {
				return fmt.Errorf("%s: layer %s: %w", img.ID, l.Digest, err)
			}
			entry.Layers = append(entry.Layers, blobName(l.Digest))
		}
		sum := sha256.Sum256(mb)
		md := "sha256:" + hex.EncodeToString(sum[:])
		if !written[md] {
			written[md] = true
			if err := addBytes(blobName(md), mb); err != nil {
				return err
			}
		}
		for _, n := range img.Names {
			entry.RepoTags = append(entry.RepoTags, image.ShortRepo(n))
		}
		docker = append(docker, entry)
		desc := ociDescriptor{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: md, Size: int64(len(mb))}
		if len(img.Names) == 0 {
			index = append(index, desc)
		}
		for _, n := range img.Names {
			d := desc
			d.Annotations = map[string]string{"io.containerd.image.name": n, "org.opencontainers.image.ref.name": n}
			index = append(index, d)
		}
	}
	ib, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": index})
	db, _ := json.Marshal(docker)
	for _, f := range []struct {
		name string
		b    []byte
	}{{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)}, {"index.json", ib}, {"manifest.json", db}} {
		if err := addBytes(f.name, f.b); err != nil {
			return err
		}
	}
	return tw.Close()
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
