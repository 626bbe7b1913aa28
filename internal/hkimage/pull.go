package hkimage

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"hako/internal/hkcli"
	"hako/internal/image"
)

func init() { hkcli.Register(pullCmd) }

type pullOpts struct {
	reg      regFlags
	platform string
	quiet    bool
}

func pullCmd(env *hkcli.Env) *cobra.Command {
	var o pullOpts
	c := &cobra.Command{
		Use:   "pull [OPTIONS] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry",
		Long: "Download an image from a registry (OCI distribution API v2): by tag or digest; from a\n" +
			"multi-arch index the host's platform, or --platform's. Credentials come from `hk login`\n" +
			"($XDG_RUNTIME_DIR/containers/auth.json) or ~/.docker/config.json. Registries on\n" +
			"127.0.0.0/8 and localhost may use plain HTTP, as Docker allows.",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := hkcli.ImageStoreRW(env)
			if err != nil {
				return err
			}
			defer s.Close()
			_, err = pull(c.Context(), s, args[0], o, c.OutOrStdout())
			return err
		},
	}
	f := c.Flags()
	o.reg.add(f)
	f.StringVar(&o.platform, "platform", "", "pick this platform (os/arch[/variant]) from a multi-arch image")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "suppress progress output")
	f.BoolP("all-tags", "a", false, "not supported: pull one tag at a time")
	f.MarkHidden("all-tags")
	return c
}

// remoteImage is what pull learns from the registry about an image.
type remoteImage struct {
	digest           string // the reference's: an index's for a multi-arch image
	img              v1.Image
	manifest, config []byte
	layers           []v1.Layer
}

// resolve asks the registry for rf: the manifest (for a multi-arch
// index, the platform's), the config, the layers' descriptors.
func resolve(ctx context.Context, rf image.Ref, o pullOpts) (*remoteImage, error) {
	ref, err := o.reg.reference(rf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rf.Short(), err)
	}
	plat := hostPlatform()
	if o.platform != "" {
		p, err := v1.ParsePlatform(o.platform)
		if err != nil {
			return nil, fmt.Errorf("--platform %s: %w", o.platform, err)
		}
		plat = *p
	}
	opts, err := o.reg.remoteOptions(ctx, rf.Domain, &plat)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, regError(rf.Short(), err)
	}
	r := &remoteImage{digest: desc.Digest.String()}
	if r.img, err = desc.Image(); err != nil {
		return nil, regError(rf.Short(), fmt.Errorf("platform %s: %w", plat, err))
	}
	if r.manifest, err = r.img.RawManifest(); err == nil {
		if r.config, err = r.img.RawConfigFile(); err == nil {
			r.layers, err = r.img.Layers()
		}
	}
	if err != nil {
		return nil, regError(rf.Short(), err)
	}
	return r, nil
}

// pull fetches ref's manifest and config, the layer blobs the store does
// not have (in parallel, each checked against its digest), and adds the
// image: its missing layers unpacked, then recorded in one transaction.
// On failure, the blobs it fetched are removed again.
func pull(ctx context.Context, s *image.Store, refStr string, o pullOpts, out io.Writer) (*image.Image, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	rf, err := image.ParseRef(refStr)
	if err != nil {
		return nil, err
	}
	r, err := resolve(ctx, rf, o)
	if err != nil {
		return nil, err
	}
	if !o.quiet {
		tag := rf.Tag
		if rf.Digest != "" {
			tag = rf.Digest
		}
		fmt.Fprintf(out, "%s: Pulling from %s\n", tag, strings.TrimPrefix(rf.Path, "library/"))
	}
	unlock, err := s.Adding()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var had *image.Image
	if cfgDigest, err := r.img.ConfigName(); err == nil {
		had, _ = s.Get(cfgDigest.String())
	}
	p := newProgress(out, o.quiet)
	var added *image.Image
	fetched, err := fetchLayers(ctx, s, r.layers, p)
	if err == nil {
		var names []string
		if rf.Digest == "" {
			names = append(names, rf.String())
		}
		added, err = s.Add(image.New{Config: r.config, Manifest: r.manifest, Layers: storeLayers(s, r.layers),
			Names: names, Repo: rf.Repo(), Digest: r.digest, Parallel: 4})
	}
	p.wait()
	if err != nil {
		for _, d := range fetched {
			os.Remove(s.BlobPath(d))
		}
		return nil, regError(rf.Short(), err)
	}
	if !o.quiet {
		status := "Downloaded newer image for "
		if had != nil {
			status = "Image is up to date for "
		}
		fmt.Fprintf(out, "Digest: %s\nStatus: %s%s\n", r.digest, status, rf.Short())
	}
	fmt.Fprintln(out, rf.String())
	return added, nil
}

// fetchLayers stores the layer blobs the store lacks, four at a time,
// and returns those it added.
func fetchLayers(ctx context.Context, s *image.Store, layers []v1.Layer, p *progress) ([]string, error) {
	var mu sync.Mutex
	var added []string
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return nil, err
		}
		diff, err := l.DiffID()
		if err != nil {
			return nil, err
		}
		if s.HasBlob(d.String()) {
			p.done(d.String(), "Already exists")
			continue
		}
		size, _ := l.Size()
		g.Go(func() error {
			rc, err := l.Compressed()
			if err != nil {
				return err
			}
			defer rc.Close()
			var new bool
			err = s.Log.Step("fetch blob", d.String()+" (layer "+diff.String()+")", func() error {
				var err error
				_, _, new, err = s.PutNewBlob(d.String(), p.reader(ctx, d.String(), size, rc))
				return err
			})
			if err != nil {
				return fmt.Errorf("layer %s: %w", d, err)
			}
			if new {
				mu.Lock()
				added = append(added, d.String())
				mu.Unlock()
			}
			p.done(d.String(), "Pull complete")
			return nil
		})
	}
	return added, g.Wait()
}

// storeLayers are the image's layers as the store reads them: each from
// its stored blob, decompressed.
func storeLayers(s *image.Store, layers []v1.Layer) []image.Layer {
	var out []image.Layer
	for _, l := range layers {
		d, _ := l.Digest()
		diff, _ := l.DiffID()
		blob := s.BlobPath(d.String())
		out = append(out, image.Layer{DiffID: diff.String(), Blob: d.String(), Open: func() (io.ReadCloser, error) {
			return openDecompressed(blob)
		}})
	}
	return out
}

// openDecompressed opens a stored blob and reads it uncompressed.
func openDecompressed(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	rc, err := decompressed(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return both{rc, f}, nil
}

type both struct {
	io.ReadCloser
	f *os.File
}

func (b both) Close() error {
	b.ReadCloser.Close()
	return b.f.Close()
}
