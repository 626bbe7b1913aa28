package hkcli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"hako/internal/image"
)

// imageInspect is `docker image inspect`'s object, with the fields hk
// has.
type imageInspect struct {
	ID            string `json:"Id"`
	RepoTags      []string
	RepoDigests   []string
	Created       string
	Config        json.RawMessage
	Architecture  string
	Os            string
	Size          int64
	GraphDriver   graphDriver
	RootFS        rootFS
	Metadata      struct{ LastTagTime string }
	ContainersUse []string `json:"Containers,omitempty"`
}

type graphDriver struct {
	Name string
	Data map[string]string
}

type rootFS struct {
	Type   string
	Layers []string
}

func imageInspectCmd(env *Env) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "inspect [OPTIONS] IMAGE [IMAGE...]",
		Short: "Display detailed information on one or more images",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := ImageStore(env)
			if err != nil {
				return err
			}
			defer s.Close()
			var out []imageInspect
			var errs []error
			for _, ref := range args {
				img, err := s.Get(ref)
				if err != nil {
					errs = append(errs, imgErr(err, ref))
					continue
				}
				out = append(out, inspectOf(img))
			}
			return writeInspect(c.OutOrStdout(), out, format, errs)
		},
	}
	c.Flags().StringVarP(&format, "format", "f", "", "format the output using the given Go template")
	return c
}

func inspectOf(img *image.Image) imageInspect {
	var cfg struct {
		Config json.RawMessage `json:"config"`
	}
	json.Unmarshal(img.RawConfig, &cfg)
	in := imageInspect{
		ID: img.ID, RepoTags: shortNames(img.Names), RepoDigests: shortNames(img.RepoDigests),
		Created: img.Created.Format(time.RFC3339Nano), Config: cfg.Config,
		Architecture: img.Architecture, Os: img.OS, Size: img.Size,
		RootFS:        rootFS{Type: "layers", Layers: img.DiffIDs},
		ContainersUse: img.Holders,
	}
	if in.Config == nil {
		in.Config = json.RawMessage("{}")
	}
	lower := make([]string, len(img.Layers))
	for i, l := range img.Layers { // overlayfs's order: top first
		lower[len(lower)-1-i] = l
	}
	in.GraphDriver = graphDriver{Name: "overlay", Data: map[string]string{"LowerDir": strings.Join(lower, ":")}}
	return in
}

func shortNames(names []string) []string {
	out := []string{}
	for _, n := range names {
		out = append(out, image.ShortRepo(n))
	}
	return out
}

func printJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeInspect prints what inspect found (a Go template per object, or a
// JSON array), then each name it could not find, as Docker does: exit 1
// when any was missing.
func writeInspect[T any](w io.Writer, out []T, format string, errs []error) error {
	var err error
	if format != "" {
		err = formatRows(w, out, format)
	} else {
		err = printJSON(w, out)
	}
	if err != nil {
		return err
	}
	for _, e := range errs {
		fmt.Fprintln(os.Stderr, "hk: Error:", e)
	}
	if len(errs) > 0 {
		return ExitError(1)
	}
	return nil
}
