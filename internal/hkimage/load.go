package hkimage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/spf13/cobra"

	"hako/internal/hkcli"
	"hako/internal/image"
)

func init() { hkcli.Register(loadCmd) }

func loadCmd(env *hkcli.Env) *cobra.Command {
	var input string
	var quiet bool
	c := &cobra.Command{
		Use:   "load [OPTIONS]",
		Short: "Load images from a tar archive or STDIN",
		Long: "Load the images of a `docker save` archive or an OCI image layout archive\n" +
			"(gzip, zstd or bzip2 compressed or not), with their names.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			in := io.Reader(os.Stdin)
			if input != "" {
				f, err := os.Open(input)
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			} else if isTerminal(os.Stdin) {
				return errors.New("load: give an archive with -i FILE or on stdin")
			}
			s, err := hkcli.ImageStoreRW(env)
			if err != nil {
				return err
			}
			defer s.Close()
			loaded, err := load(s, in)
			if err != nil {
				return fmt.Errorf("load %s: %w", input, err)
			}
			for _, img := range loaded {
				if quiet {
					continue
				}
				if len(img.Names) == 0 {
					fmt.Fprintf(c.OutOrStdout(), "Loaded image ID: %s\n", img.ID)
				}
				for _, n := range img.Names {
					fmt.Fprintf(c.OutOrStdout(), "Loaded image: %s\n", image.ShortRepo(n))
				}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&input, "input", "i", "", "read from a tar archive file instead of STDIN")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "suppress the load output")
	return c
}

// load unpacks the archive into a directory of the store's tmp (confined
// as a layer is: an archive cannot write outside it) and adds its images:
// from manifest.json (docker save) if there is one, else from the OCI
// layout (index.json).
func load(s *image.Store, in io.Reader) ([]*image.Image, error) {
	unlock, err := s.Adding()
	if err != nil {
		return nil, err
	}
	defer unlock()
	dir, err := s.TempDir("load")
	if err != nil {
		return nil, err
	}
	defer s.RemoveTemp(dir)
	rc, err := decompressed(in)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", image.ErrBadTar, err)
	}
	defer rc.Close()
	if _, err := image.Unpack(dir, rc, image.UnpackOptions{NoOwner: true, NoDevices: true}); err != nil {
		return nil, err
	}
	if err := linksInside(dir); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		return loadDocker(s, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		return loadOCI(s, dir)
	}
	return nil, errors.New("neither a docker save archive (manifest.json) nor an OCI layout (index.json)")
}

// linksInside refuses an archive with a symlink that leads out of it:
// the files are read with plain opens (here and by go-containerregistry's
// layout reader), which would follow it to a file of the host. Symlinks
// inside are fine (Docker 25's save links layer.tar to blobs/).
func linksInside(dir string) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil // dangling: opening it fails anyway
		}
		if real != root && !strings.HasPrefix(real, root+"/") {
			rel, _ := filepath.Rel(root, p)
			return fmt.Errorf("%w: %s is a symlink out of the archive", image.ErrBadTar, rel)
		}
		return nil
	})
}

// dockerEntry is one image of a docker save archive's manifest.json.
type dockerEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func loadDocker(s *image.Store, dir string) ([]*image.Image, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var entries []dockerEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	var out []*image.Image
	for _, e := range entries {
		config, err := os.ReadFile(inside(dir, e.Config))
		if err != nil {
			return nil, fmt.Errorf("manifest.json: config: %w", err)
		}
		var cf struct {
			RootFS struct {
				DiffIDs []string `json:"diff_ids"`
			} `json:"rootfs"`
		}
		if err := json.Unmarshal(config, &cf); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Config, err)
		}
		if len(cf.RootFS.DiffIDs) != len(e.Layers) {
			return nil, fmt.Errorf("%s: %d layers in the config, %d in manifest.json", e.Config, len(cf.RootFS.DiffIDs), len(e.Layers))
		}
		var layers []image.Layer
		for i, l := range e.Layers {
			f, err := os.Open(inside(dir, l))
			if err != nil {
				return nil, fmt.Errorf("manifest.json: layer: %w", err)
			}
			d, _, err := s.PutBlob("", f)
			f.Close()
			if err != nil {
				return nil, err
			}
			blob := s.BlobPath(d)
			layers = append(layers, image.Layer{DiffID: cf.RootFS.DiffIDs[i], Blob: d,
				Open: func() (io.ReadCloser, error) { return openDecompressed(blob) }})
		}
		img, err := s.Add(image.New{Config: config, Layers: layers, Names: e.RepoTags, Parallel: 4})
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// inside is name resolved lexically inside dir (the archive was unpacked
// confined; a name here cannot climb out either).
func inside(dir, name string) string {
	return filepath.Join(dir, filepath.Clean("/"+name))
}

func loadOCI(s *image.Store, dir string) ([]*image.Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []*image.Image
	for _, d := range im.Manifests {
		img, err := ociImage(idx, d)
		if err != nil {
			return nil, err
		}
		var names []string
		if n := ociName(d.Annotations); n != "" {
			names = append(names, n)
		}
		added, err := addImage(s, img, names, "")
		if err != nil {
			return nil, err
		}
		out = append(out, added)
	}
	return out, nil
}

// ociImage is the image d names: itself, or from a nested index the
// host's platform.
func ociImage(idx v1.ImageIndex, d v1.Descriptor) (v1.Image, error) {
	if !d.MediaType.IsIndex() {
		return idx.Image(d.Digest)
	}
	child, err := idx.ImageIndex(d.Digest)
	if err != nil {
		return nil, err
	}
	cm, err := child.IndexManifest()
	if err != nil {
		return nil, err
	}
	host := hostPlatform()
	for _, c := range cm.Manifests {
		if c.Platform != nil && c.Platform.OS == host.OS && c.Platform.Architecture == host.Architecture {
			return child.Image(c.Digest)
		}
	}
	return nil, fmt.Errorf("index %s has no image for %s", d.Digest, host)
}

// ociName is an image's name from its annotations: containerd's full
// name, or the OCI ref name when it is a whole reference (not a bare
// tag).
func ociName(a map[string]string) string {
	if n := a["io.containerd.image.name"]; n != "" {
		return n
	}
	n := a["org.opencontainers.image.ref.name"]
	if strings.ContainsAny(n, "/:") {
		if _, err := image.ParseRef(n); err == nil {
			return n
		}
	}
	return ""
}

// addImage stores a go-containerregistry image's blobs (each checked
// against its digest) and adds it.
func addImage(s *image.Store, img v1.Image, names []string, repo string) (*image.Image, error) {
	config, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	manifest, err := img.RawManifest()
	if err != nil {
		return nil, err
	}
	ls, err := img.Layers()
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		d, err := l.Digest()
		if err != nil {
			return nil, err
		}
		if s.HasBlob(d.String()) {
			continue
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, err
		}
		_, _, err = s.PutBlob(d.String(), rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", d, err)
		}
	}
	return s.Add(image.New{Config: config, Manifest: manifest, Layers: storeLayers(s, ls), Names: names, Repo: repo, Parallel: 4})
}
