// Command pullbench measures `hk pull` against `podman pull` of the same
// multi-layer image from a local docker-registry on 127.0.0.1 (make
// bench; docs/images.md), each into a fresh store every time, in
// interleaved order; and checks that a second image sharing all but one
// layer fetches only that one (blob requests counted at a proxy).
//
//	go run ./scripts/bench/pullbench -hk bin/hk [-n 10] [-markdown out.md]
package main

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	hk := flag.String("hk", "bin/hk", "the hk to measure")
	n := flag.Int("n", 10, "pulls of each tool")
	md := flag.String("markdown", "", "write the result table here too")
	traced := flag.Bool("trace", false, "print one traced hk pull's steps at the end")
	flag.Parse()
	work, err := os.MkdirTemp("", "pullbench")
	check(err)
	defer os.RemoveAll(work)
	reg, stop := startRegistry(work)
	defer stop()
	counts := &counter{m: map[string]int{}}
	proxy := startProxy(reg, counts)
	defer proxy.Close()
	addr := strings.TrimPrefix(proxy.URL, "http://")

	shared := []v1.Layer{layer(manyFiles(2000, 2<<10)), layer(bigFiles(4, 2<<20)), layer(bigFiles(2, 2<<20)), layer(manyFiles(500, 8<<10))}
	a := image(append(shared, layer(bigFiles(1, 1<<20)))...)
	b := image(append(shared, layer(bigFiles(1, 1<<20)))...)
	push(reg+"/bench/a:1", a)
	push(reg+"/bench/b:1", b)
	size := int64(0)
	ls, _ := a.Layers()
	for _, l := range ls {
		s, _ := l.Size()
		size += s
	}

	tools := map[string]func(dir string) []string{
		"hk": func(dir string) []string {
			return []string{*hk, "--root", dir + "/root", "--runroot", dir + "/run", "pull", "-q", addr + "/bench/a:1"}
		},
	}
	if _, err := exec.LookPath("podman"); err == nil {
		// A private mount namespace: podman's overlay driver bind-mounts
		// its home; the mount dies with the namespace.
		tools["podman"] = func(dir string) []string {
			return []string{"unshare", "-m", "--propagation", "private", "podman", "--root", dir + "/root", "--runroot", dir + "/run",
				"pull", "-q", "--tls-verify=false", addr + "/bench/a:1"}
		}
	}
	times := map[string][]time.Duration{}
	var names []string
	for k := range tools {
		names = append(names, k)
	}
	sort.Strings(names)
	for i := 0; i < *n; i++ {
		for _, t := range names {
			dir, _ := os.MkdirTemp(work, t)
			argv := tools[t](dir)
			start := time.Now()
			out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
			d := time.Since(start)
			if err != nil {
				log.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
			}
			times[t] = append(times[t], d)
			os.RemoveAll(dir)
		}
	}

	// The second pull: b after a, in one store.
	dir, _ := os.MkdirTemp(work, "shared")
	run(*hk, "--root", dir+"/root", "--runroot", dir+"/run", "pull", "-q", addr+"/bench/a:1")
	counts.reset()
	start := time.Now()
	run(*hk, "--root", dir+"/root", "--runroot", dir+"/run", "pull", "-q", addr+"/bench/b:1")
	second := time.Since(start)
	fetched := counts.reset()
	layersFetched := 0
	bl, _ := b.Layers()
	for _, l := range bl {
		d, _ := l.Digest()
		layersFetched += fetched[d.String()]
	}

	var out bytes.Buffer
	fmt.Fprintf(&out, "`pull` of a %d-layer image (%.1f MB compressed, 2,500 small files and 7 large ones) from Debian's docker-registry on 127.0.0.1, into an empty store each time, N=%d, interleaved; median (p90):\n\n", len(ls), float64(size)/1e6, *n)
	fmt.Fprintln(&out, "| tool | pull | ratio to podman |")
	fmt.Fprintln(&out, "|---|---|---|")
	pm := median(times["podman"])
	for _, t := range names {
		ratio := "-"
		if pm > 0 {
			ratio = fmt.Sprintf("%.2f", float64(median(times[t]))/float64(pm))
		}
		fmt.Fprintf(&out, "| %s | %s (%s) | %s |\n", t, ms(median(times[t])), ms(p90(times[t])), ratio)
	}
	fmt.Fprintf(&out, "\nSecond pull, an image sharing 4 of its 5 layers with one already pulled: %d layer blob fetched (want 1), %s.\n", layersFetched, ms(second))
	os.Stdout.Write(out.Bytes())
	if *traced {
		dir, _ := os.MkdirTemp(work, "trace")
		cmd := exec.Command(*hk, "--trace", "--root", dir+"/root", "--runroot", dir+"/run", "pull", "-q", addr+"/bench/a:1")
		cmd.Stderr = os.Stderr
		check(cmd.Run())
	}
	if *md != "" {
		check(os.WriteFile(*md, out.Bytes(), 0o644))
	}
	if layersFetched != 1 {
		os.Exit(1)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/1e6) }

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func p90(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)*9+9)/10-1]
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func run(argv ...string) {
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		log.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
}

// startRegistry runs docker-registry on a free 127.0.0.1 port.
func startRegistry(work string) (string, func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	addr := l.Addr().String()
	l.Close()
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\nhttp:\n  addr: %s\n", work, addr)
	check(os.WriteFile(filepath.Join(work, "registry.yml"), []byte(cfg), 0o600))
	cmd := exec.Command("docker-registry", "serve", filepath.Join(work, "registry.yml"))
	check(cmd.Start())
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if i == 100 {
			log.Fatal("docker-registry did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return addr, func() { cmd.Process.Kill(); cmd.Wait() }
}

type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.m
	c.m = map[string]int{}
	return m
}

// startProxy counts blob GETs on their way to the registry.
func startProxy(reg string, c *counter) *httptest.Server {
	u, _ := url.Parse("http://" + reg)
	rp := httputil.NewSingleHostReverseProxy(u)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i := strings.LastIndex(r.URL.Path, "/blobs/"); i >= 0 && r.Method == http.MethodGet {
			c.mu.Lock()
			c.m[r.URL.Path[i+len("/blobs/"):]]++
			c.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
}

type file struct {
	name string
	data []byte
}

func manyFiles(n, size int) []file {
	var fs []file
	for i := 0; i < n; i++ {
		fs = append(fs, file{fmt.Sprintf("usr/share/bench/%d/%d.txt", i%50, i), text(size)})
	}
	return fs
}

func bigFiles(n, size int) []file {
	var fs []file
	for i := 0; i < n; i++ {
		b := make([]byte, size)
		rand.Read(b)
		fs = append(fs, file{fmt.Sprintf("opt/bench/big%d-%x", i, b[:4]), b})
	}
	return fs
}

// text is compressible (like most files of an image), and unique.
func text(n int) []byte {
	b := make([]byte, n/4)
	rand.Read(b)
	return []byte(strings.Repeat(fmt.Sprintf("%x\n", b[:8]), n/17+1))[:n]
}

func layer(fs []file) v1.Layer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range fs {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)})
		tw.Write(f.data)
	}
	tw.Close()
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	check(err)
	return l
}

func image(layers ...v1.Layer) v1.Image {
	base, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, RootFS: v1.RootFS{Type: "layers"},
		Config: v1.Config{Cmd: []string{"sh"}}})
	check(err)
	img, err := mutate.AppendLayers(base, layers...)
	check(err)
	return img
}

func push(ref string, img v1.Image) {
	r, err := name.ParseReference(ref)
	check(err)
	check(remote.Write(r, img))
}
