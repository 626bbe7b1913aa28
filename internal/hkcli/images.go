package hkcli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"hako/internal/image"
)

func init() { register(imagesCmd) }

type imagesOpts struct {
	quiet, noTrunc, digests bool
	format                  string
}

func imagesCmd(env *Env) *cobra.Command {
	var o imagesOpts
	c := &cobra.Command{
		Use:   "images [OPTIONS] [REPOSITORY[:TAG]]",
		Short: "List images",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := ImageStore(env)
			if err != nil {
				return err
			}
			defer s.Close()
			list, err := s.List()
			if err != nil {
				return err
			}
			filter := ""
			if len(args) == 1 {
				filter = args[0]
			}
			return printImages(c.OutOrStdout(), imageRows(list, filter), o)
		},
	}
	f := c.Flags()
	f.BoolVarP(&o.quiet, "quiet", "q", false, "only show image IDs")
	f.BoolVar(&o.noTrunc, "no-trunc", false, "don't truncate output")
	f.BoolVar(&o.digests, "digests", false, "show digests")
	f.StringVar(&o.format, "format", "", "format output with a Go template ('json': one JSON object per line)")
	f.BoolP("all", "a", false, "show all images (hk keeps no intermediate images: the same list)")
	return c
}

// imageRow is one line of `images`: an image under one of its names.
// Field names are Docker's, for --format.
type imageRow struct {
	Repository, Tag, ID, Digest string
	CreatedSince, CreatedAt     string
	Size                        string
	created                     time.Time
	size                        int64
}

// imageRows is a row per name (one "<none>" row for an image without
// one), keeping only repo[:tag] filter if given.
func imageRows(list []*image.Image, filter string) []imageRow {
	var fRepo, fTag string
	if filter != "" {
		if r, err := image.ParseRef(filter); err == nil {
			fRepo = r.Repo()
			if strings.Contains(filter[strings.LastIndex(filter, "/")+1:], ":") {
				fTag = r.Tag
			}
		} else {
			fRepo = "\x00" // matches nothing
		}
	}
	var rows []imageRow
	for _, img := range list {
		base := imageRow{ID: img.ID, Digest: "<none>", created: img.Created, size: img.Size,
			CreatedAt: img.Created.Format("2006-01-02 15:04:05 -0700 MST"), CreatedSince: humanSince(img.Created), Size: humanSize(img.Size)}
		if img.Digest != "" {
			base.Digest = img.Digest
		}
		names := img.Names
		if len(names) == 0 && len(img.RepoDigests) > 0 { // pulled by digest: its repository, no tag
			names = img.RepoDigests[:1]
		}
		if len(names) == 0 {
			if fRepo == "" {
				r := base
				r.Repository, r.Tag = "<none>", "<none>"
				rows = append(rows, r)
			}
			continue
		}
		for _, n := range names {
			ref, err := image.ParseRef(n)
			if err != nil || fRepo != "" && (ref.Repo() != fRepo || fTag != "" && ref.Tag != fTag) {
				continue
			}
			r := base
			r.Repository, r.Tag = image.ShortRepo(ref.Repo()), ref.Tag
			if ref.Digest != "" {
				r.Tag = "<none>"
			}
			rows = append(rows, r)
		}
	}
	return rows
}

func printImages(w io.Writer, rows []imageRow, o imagesOpts) error {
	if o.quiet {
		seen := map[string]bool{}
		for _, r := range rows {
			if !seen[r.ID] {
				seen[r.ID] = true
				fmt.Fprintln(w, idText(r.ID, o.noTrunc))
			}
		}
		return nil
	}
	for i := range rows {
		rows[i].ID = idText(rows[i].ID, o.noTrunc)
	}
	if o.format != "" {
		return formatRows(w, rows, o.format)
	}
	tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
	head := "REPOSITORY\tTAG\t"
	if o.digests {
		head += "DIGEST\t"
	}
	fmt.Fprintln(tw, head+"IMAGE ID\tCREATED\tSIZE")
	for _, r := range rows {
		line := r.Repository + "\t" + r.Tag + "\t"
		if o.digests {
			line += r.Digest + "\t"
		}
		fmt.Fprintln(tw, line+r.ID+"\t"+r.CreatedSince+"\t"+r.Size)
	}
	return tw.Flush()
}

func idText(id string, noTrunc bool) string {
	if noTrunc {
		return id
	}
	return shortID(id)
}

// formatRows prints each row through a Go template; "json" and
// "{{json .}}" print it as one JSON object.
func formatRows[T any](w io.Writer, rows []T, format string) error {
	if format == "json" {
		format = "{{json .}}"
	}
	tmpl, err := template.New("format").Funcs(template.FuncMap{"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	}}).Parse(format)
	if err != nil {
		return usageError{fmt.Errorf("--format: %w", err)}
	}
	for _, r := range rows {
		if err := tmpl.Execute(w, r); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	return nil
}
