package hkimage

import (
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/spf13/cobra"

	"hako/internal/hkcli"
	"hako/internal/image"
)

func init() { hkcli.Register(pushCmd) }

func pushCmd(env *hkcli.Env) *cobra.Command {
	var reg regFlags
	var quiet bool
	c := &cobra.Command{
		Use:   "push [OPTIONS] NAME[:TAG] [DESTINATION]",
		Short: "Upload an image to a registry",
		Long: "Upload an image to the registry its name says (or to DESTINATION, podman's form),\n" +
			"its layers as the store keeps them; blobs the registry has are not sent again.",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(c *cobra.Command, args []string) error {
			dest := args[len(args)-1]
			rf, err := image.ParseRef(dest)
			if err != nil {
				return err
			}
			if rf.Digest != "" {
				return fmt.Errorf("push %s: a destination is a name and a tag, not a digest", dest)
			}
			s, err := hkcli.ImageStore(env)
			if err != nil {
				return err
			}
			defer s.Close()
			img, err := s.Get(args[0])
			if err != nil {
				return err
			}
			d, size, err := push(c, s, img, rf, &reg)
			if err != nil {
				return err
			}
			if !quiet {
				fmt.Fprintf(c.OutOrStdout(), "%s: digest: %s size: %d\n", rf.Tag, d, size)
			}
			return nil
		},
	}
	reg.add(c.Flags())
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "suppress the output")
	return c
}

func push(c *cobra.Command, s *image.Store, img *image.Image, rf image.Ref, reg *regFlags) (v1.Hash, int, error) {
	manifest, layers, err := ociManifest(s, img)
	if err != nil {
		return v1.Hash{}, 0, err
	}
	core := &storeImage{s: s, img: img, manifest: manifest, layers: map[string]ociDescriptor{}}
	for _, l := range layers {
		core.layers[l.Digest] = l
	}
	vimg, err := partial.CompressedToImage(core)
	if err != nil {
		return v1.Hash{}, 0, err
	}
	ref, err := reg.reference(rf)
	if err != nil {
		return v1.Hash{}, 0, err
	}
	opts, err := reg.remoteOptions(c.Context(), rf.Domain, nil)
	if err != nil {
		return v1.Hash{}, 0, err
	}
	err = s.Log.Step("push", img.ID+" to "+rf.String(), func() error { return remote.Write(ref, vimg, opts...) })
	if err != nil {
		return v1.Hash{}, 0, regError(rf.Short(), err)
	}
	d, err := vimg.Digest()
	return d, len(manifest), err
}

// storeImage is a stored image as go-containerregistry's compressed
// image core: the config and layer blobs as kept, an OCI manifest.
type storeImage struct {
	s        *image.Store
	img      *image.Image
	manifest []byte
	layers   map[string]ociDescriptor
}

func (i *storeImage) RawConfigFile() ([]byte, error) { return i.img.RawConfig, nil }
func (i *storeImage) MediaType() (types.MediaType, error) {
	return types.OCIManifestSchema1, nil
}
func (i *storeImage) RawManifest() ([]byte, error) { return i.manifest, nil }

func (i *storeImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h.String() == i.img.ID {
		return &storeBlob{path: i.s.BlobPath(i.img.ID), desc: ociDescriptor{MediaType: string(types.OCIConfigJSON), Digest: i.img.ID, Size: int64(len(i.img.RawConfig))}}, nil
	}
	d, ok := i.layers[h.String()]
	if !ok {
		return nil, fmt.Errorf("no blob %s in image %s", h, i.img.ID)
	}
	return &storeBlob{path: i.s.BlobPath(d.Digest), desc: d}, nil
}

type storeBlob struct {
	path string
	desc ociDescriptor
}

func (b *storeBlob) Digest() (v1.Hash, error)           { return v1.NewHash(b.desc.Digest) }
func (b *storeBlob) Compressed() (io.ReadCloser, error) { return os.Open(b.path) }
func (b *storeBlob) Size() (int64, error)               { return b.desc.Size, nil }
func (b *storeBlob) MediaType() (types.MediaType, error) {
	return types.MediaType(b.desc.MediaType), nil
}
