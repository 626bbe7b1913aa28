package hkimage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"hako/internal/hkcli"
	"hako/internal/image"
)

func init() { hkcli.Register(importCmd) }

func importCmd(env *hkcli.Env) *cobra.Command {
	var changes []string
	var message, platform string
	c := &cobra.Command{
		Use:   "import [OPTIONS] file|- [REPOSITORY[:TAG]]",
		Short: "Import the contents from a tarball to create a filesystem image",
		Long: "Import a root filesystem tarball (what `docker export` writes; gzip, zstd or bzip2\n" +
			"compressed or not) as a one-layer image. --change applies Dockerfile instructions:\n" +
			"CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL.",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(c *cobra.Command, args []string) error {
			var cfg image.Config
			for _, ch := range changes {
				if err := applyChange(&cfg, ch); err != nil {
					return err
				}
			}
			var names []string
			if len(args) == 2 {
				if _, err := image.ParseRef(args[1]); err != nil {
					return err
				}
				names = append(names, args[1])
			}
			osName, arch, err := parsePlatform(platform)
			if err != nil {
				return err
			}
			s, err := hkcli.ImageStoreRW(env)
			if err != nil {
				return err
			}
			defer s.Close()
			img, err := importTar(s, args[0], cfg, names, message, osName, arch)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.OutOrStdout(), img.ID)
			return nil
		},
	}
	f := c.Flags()
	f.StringArrayVarP(&changes, "change", "c", nil, "apply a Dockerfile instruction to the image")
	f.StringVarP(&message, "message", "m", "", "commit message for the imported image")
	f.StringVar(&platform, "platform", "", "set the image's platform (os/arch)")
	return c
}

// importTar stores the tarball src ("-": stdin) as a layer blob and adds
// the one-layer image made of it. A tarball that does not unpack leaves
// nothing behind.
func importTar(s *image.Store, src string, cfg image.Config, names []string, message, osName, arch string) (*image.Image, error) {
	in := io.Reader(os.Stdin)
	if src != "-" {
		f, err := os.Open(src)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = f
	}
	unlock, err := s.Adding()
	if err != nil {
		return nil, err
	}
	defer unlock()
	rc, err := decompressed(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", src, image.ErrBadTar, err)
	}
	defer rc.Close()
	diffID, size, added, err := s.PutNewBlob("", rc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	forget := func() {
		if added {
			os.Remove(s.BlobPath(diffID))
		}
	}
	if size == 0 {
		forget()
		return nil, fmt.Errorf("%s: %w: empty", src, image.ErrBadTar)
	}
	now := time.Now().UTC()
	comment := "Imported from " + src
	if message != "" {
		comment = message
	}
	config, _ := json.Marshal(map[string]any{
		"architecture": arch,
		"os":           osName,
		"created":      now,
		"config":       cfg,
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{diffID}},
		"history":      []map[string]any{{"created": now, "comment": comment}},
	})
	img, err := s.Add(image.New{
		Config: config,
		Names:  names,
		Layers: []image.Layer{{DiffID: diffID, Blob: diffID, Open: openBlob(s, diffID)}},
	})
	if err != nil {
		forget()
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return img, nil
}

func openBlob(s *image.Store, d string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return os.Open(s.BlobPath(d)) }
}

// parsePlatform parses os/arch[/variant]; "" is the host's.
func parsePlatform(p string) (osName, arch string, err error) {
	if p == "" {
		return "linux", runtime.GOARCH, nil
	}
	var rest string
	osName, rest, _ = splitSlash(p)
	arch, _, _ = splitSlash(rest)
	if osName == "" || arch == "" {
		return "", "", errors.New("--platform " + p + ": want os/arch[/variant]")
	}
	return osName, arch, nil
}

func splitSlash(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
