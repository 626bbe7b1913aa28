package hkimage

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/sys/unix"
)

// progress shows a bar per layer being fetched when stderr is a
// terminal, and Docker's one line per layer ("Pull complete") otherwise.
type progress struct {
	out   io.Writer
	quiet bool
	bars  *mpb.Progress
	mu    sync.Mutex
	bar   map[string]*mpb.Bar
}

func newProgress(out io.Writer, quiet bool) *progress {
	p := &progress{out: out, quiet: quiet, bar: map[string]*mpb.Bar{}}
	if !quiet && isTerminal(os.Stderr) {
		p.bars = mpb.New(mpb.WithOutput(os.Stderr), mpb.WithWidth(40))
	}
	return p
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func short(digest string) string {
	h := strings.TrimPrefix(digest, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}

// reader counts what r gives toward digest's bar.
func (p *progress) reader(ctx context.Context, digest string, size int64, r io.Reader) io.Reader {
	if p.bars == nil {
		return r
	}
	bar := p.bars.AddBar(size,
		mpb.PrependDecorators(decor.Name(short(digest)+" "), decor.CountersKibiByte("% .1f / % .1f")),
		mpb.AppendDecorators(decor.OnComplete(decor.Percentage(), "done")))
	p.mu.Lock()
	p.bar[digest] = bar
	p.mu.Unlock()
	pr, err := bar.ProxyReader(r)
	if err != nil {
		return r
	}
	return pr
}

// done says digest's layer is in the store.
func (p *progress) done(digest, status string) {
	if p.quiet {
		return
	}
	if p.bars == nil {
		p.mu.Lock()
		fmt.Fprintf(p.out, "%s: %s\n", short(digest), status)
		p.mu.Unlock()
		return
	}
	p.mu.Lock()
	bar := p.bar[digest]
	p.mu.Unlock()
	if bar != nil {
		bar.SetTotal(-1, true)
	}
}

func (p *progress) wait() {
	if p.bars == nil {
		return
	}
	p.mu.Lock()
	for _, b := range p.bar {
		if !b.Completed() {
			b.Abort(false)
		}
	}
	p.mu.Unlock()
	p.bars.Wait()
}
