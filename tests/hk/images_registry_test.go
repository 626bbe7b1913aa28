package hk

import (
	"archive/tar"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/crypto/bcrypt"
)

// imgRegistry is Debian's docker-registry serving on 127.0.0.1 from a
// private directory, started by the test, with a proxy in front that
// counts blob fetches and can tamper with or slow down blobs.
type imgRegistry struct {
	t        *testing.T
	Addr     string // what hk is given: the proxy's host:port (the registry's with TLS)
	regAddr  string
	user     string
	pass     string
	caDir    string // with TLS: a directory holding the test CA as ca.crt
	tlsConf  *tls.Config
	mu       sync.Mutex
	blobGets map[string]int
	tamper   atomic.Bool
	slow     atomic.Bool
}

type imgRegOpts struct{ tls, auth bool }

func imgFreePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func imgStartRegistry(t *testing.T, o imgRegOpts) *imgRegistry {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Skip("no docker-registry (scripts/deps.sh installs it)")
	}
	dir := t.TempDir()
	r := &imgRegistry{t: t, regAddr: imgFreePort(t), blobGets: map[string]int{}}
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s/data\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", dir, r.regAddr)
	if o.tls {
		crt, key := r.makeCA(dir)
		cfg += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", crt, key)
	}
	if o.auth {
		r.user, r.pass = "hkuser", "s3cret-"+uniq("")
		hash, _ := bcrypt.GenerateFromPassword([]byte(r.pass), bcrypt.MinCost)
		os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(r.user+":"+string(hash)+"\n"), 0o600)
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: hk-test\n    path: %s/htpasswd\n", dir)
	}
	os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o600)
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", r.regAddr)
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("docker-registry did not listen on %s", r.regAddr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.Addr = r.regAddr
	if !o.tls {
		r.Addr = r.startProxy()
	}
	return r
}

// makeCA writes a test CA and a certificate for 127.0.0.1 signed by it;
// the CA goes to r.caDir/ca.crt.
func (r *imgRegistry) makeCA(dir string) (crtPath, keyPath string) {
	t := r.t
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hk test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	caCert, _ := x509.ParseCertificate(caDER)
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	r.caDir = filepath.Join(dir, "certs")
	os.Mkdir(r.caDir, 0o755)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	os.WriteFile(filepath.Join(r.caDir, "ca.crt"), caPEM, 0o644)
	crtPath, keyPath = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	os.WriteFile(crtPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), 0o644)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	r.tlsConf = &tls.Config{RootCAs: pool}
	return crtPath, keyPath
}

// startProxy puts a counting, optionally tampering or slow, reverse proxy
// in front of the registry.
func (r *imgRegistry) startProxy() string {
	target, _ := url.Parse("http://" + r.regAddr)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(resp *http.Response) error {
		if !strings.Contains(resp.Request.URL.Path, "/blobs/sha256:") || resp.Request.Method != http.MethodGet {
			return nil
		}
		if r.tamper.Load() {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if len(b) > 0 {
				b[len(b)/2] ^= 0xff
			}
			resp.Body = io.NopCloser(bytes.NewReader(b))
		}
		if r.slow.Load() {
			resp.Body = &imgSlowBody{resp.Body}
		}
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/") {
			r.mu.Lock()
			r.blobGets[req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:]]++
			r.mu.Unlock()
		}
		rp.ServeHTTP(w, req)
	}))
	r.t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// imgSlowBody gives 4 KiB every 10 ms.
type imgSlowBody struct{ io.ReadCloser }

func (s *imgSlowBody) Read(p []byte) (int, error) {
	time.Sleep(10 * time.Millisecond)
	if len(p) > 4096 {
		p = p[:4096]
	}
	return s.ReadCloser.Read(p)
}

// blobFetches is how many times each blob was fetched (by digest), and
// resets the count.
func (r *imgRegistry) blobFetches() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.blobGets
	r.blobGets = map[string]int{}
	return m
}

func (r *imgRegistry) remoteOpts() []remote.Option {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = r.tlsConf
	opts := []remote.Option{remote.WithTransport(tr)}
	if r.user != "" {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: r.user, Password: r.pass}))
	}
	return opts
}

func (r *imgRegistry) ref(s string) name.Reference {
	ref, err := name.ParseReference(r.regAddr + "/" + s)
	if err != nil {
		r.t.Fatal(err)
	}
	return ref
}

// imgLayer is a gzip layer with these files (name -> content).
func imgLayer(t *testing.T, files map[string]string) v1.Layer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for n, c := range files {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(c)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)})
		tw.Write([]byte(c))
	}
	tw.Close()
	return imgTarLayer(t, buf.Bytes())
}

func imgTarLayer(t *testing.T, data []byte) v1.Layer {
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// imgBuild is an image of these layers for arch, with Cmd cmd.
func imgBuild(t *testing.T, arch string, cmd []string, layers ...v1.Layer) v1.Image {
	base, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: arch,
		Created: v1.Time{Time: time.Unix(1700000000, 0)}, RootFS: v1.RootFS{Type: "layers"},
		Config: v1.Config{Cmd: cmd, Env: []string{"PATH=/bin"}}})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func (r *imgRegistry) push(repoTag string, img v1.Image) v1.Hash {
	if err := remote.Write(r.ref(repoTag), img, r.remoteOpts()...); err != nil {
		r.t.Fatalf("push %s: %v", repoTag, err)
	}
	d, _ := img.Digest()
	return d
}

func layerDigest(t *testing.T, l v1.Layer) string {
	d, err := l.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// A pull by tag: every layer fetched once; a second image sharing all
// but one layer fetches only that one; pulling again fetches nothing; a
// pull by digest finds the same image.
func TestImgPullSharesLayers(t *testing.T) {
	t.Parallel()
	reg := imgStartRegistry(t, imgRegOpts{})
	h := newHK(t)
	base := imgTarLayer(t, imgRootfsTar(t))
	mid := imgLayer(t, map[string]string{"etc/mid": "mid"})
	topA, topB := imgLayer(t, map[string]string{"etc/top": "a"}), imgLayer(t, map[string]string{"etc/top": "b"})
	digestA := reg.push("hk/a:1", imgBuild(t, runtime.GOARCH, []string{"sh"}, base, mid, topA))
	reg.push("hk/b:1", imgBuild(t, runtime.GOARCH, []string{"sh"}, base, mid, topB))
	reg.blobFetches()

	r := h.ok("pull", reg.Addr+"/hk/a:1")
	if !strings.HasSuffix(r.out, "Status: Downloaded newer image for "+reg.Addr+"/hk/a:1\n"+reg.Addr+"/hk/a:1\n") || strings.Count(r.out, "Pull complete") != 3 {
		t.Errorf("pull a: %s", r.out)
	}
	got := reg.blobFetches()
	for _, l := range []v1.Layer{base, mid, topA} {
		if got[layerDigest(t, l)] != 1 {
			t.Errorf("pull a fetched layer %s %d times", layerDigest(t, l), got[layerDigest(t, l)])
		}
	}
	r = h.ok("pull", reg.Addr+"/hk/b:1")
	got = reg.blobFetches()
	if got[layerDigest(t, topB)] != 1 || got[layerDigest(t, base)]+got[layerDigest(t, mid)] != 0 {
		t.Errorf("pull b fetched %v; want only its own top layer (and its config)", got)
	}
	if strings.Count(r.out, "Already exists") != 2 || strings.Count(r.out, "Pull complete") != 1 {
		t.Errorf("pull b: %s", r.out)
	}
	layers, _ := os.ReadDir(filepath.Join(h.root, "image", "layers"))
	if len(layers) != 4 {
		t.Errorf("%d layer directories, want 4 (two shared)", len(layers))
	}
	r = h.ok("pull", reg.Addr+"/hk/a:1")
	got = reg.blobFetches()
	if !strings.Contains(r.out, "Status: Image is up to date") || got[layerDigest(t, base)]+got[layerDigest(t, mid)]+got[layerDigest(t, topA)] != 0 {
		t.Errorf("pull a again: %s", r.out)
	}
	in := imgInspect(t, h, reg.Addr+"/hk/a:1")
	if d := in["RepoDigests"].([]any); len(d) != 1 || d[0] != reg.Addr+"/hk/a@"+digestA.String() {
		t.Errorf("RepoDigests %v, want %s", d, digestA)
	}
	lower := in["GraphDriver"].(map[string]any)["Data"].(map[string]any)["LowerDir"].(string)
	if b, err := os.ReadFile(filepath.Join(strings.Split(lower, ":")[0], "etc/top")); err != nil || string(b) != "a" {
		t.Errorf("top layer of a: %q %v", b, err)
	}
	h.ok("rmi", reg.Addr+"/hk/a:1")
	r = h.ok("pull", "-q", reg.Addr+"/hk/a@"+digestA.String())
	if r.out != reg.Addr+"/hk/a@"+digestA.String()+"\n" {
		t.Errorf("pull -q by digest: %q", r.out)
	}
	if got := reg.blobFetches(); got[layerDigest(t, topA)] != 1 || len(got) != 2 {
		t.Errorf("pull by digest after rmi fetched %v: want topA and the config", got)
	}
	if r := h.ok("images", "--format", "{{.Repository}}:{{.Tag}}"); !strings.Contains(r.out, reg.Addr+"/hk/a:<none>\n") {
		t.Errorf("images: %q", r.out)
	}
	h.ok("rmi", reg.Addr+"/hk/a@"+digestA.String(), reg.Addr+"/hk/b:1")
	imgStoreEmpty(t, h)
}

// A multi-arch index: the host's platform by default, --platform's when
// given; a pull by the index's digest is found by that digest.
func TestImgPullIndex(t *testing.T) {
	t.Parallel()
	reg := imgStartRegistry(t, imgRegOpts{})
	h := newHK(t)
	base := imgTarLayer(t, imgRootfsTar(t))
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	host := imgBuild(t, runtime.GOARCH, []string{"echo", "host"}, base)
	foreign := imgBuild(t, other, []string{"echo", other}, base, imgLayer(t, map[string]string{"arch": other}))
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: foreign, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: other}}},
		mutate.IndexAddendum{Add: host, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}}})
	if err := remote.WriteIndex(reg.ref("hk/multi:1"), idx, reg.remoteOpts()...); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()
	h.ok("pull", reg.Addr+"/hk/multi:1")
	if in := imgInspect(t, h, reg.Addr+"/hk/multi:1"); in["Architecture"] != runtime.GOARCH {
		t.Errorf("pulled %v, want the host's %s", in["Architecture"], runtime.GOARCH)
	}
	h.ok("pull", "--platform", "linux/"+other, reg.Addr+"/hk/multi:1")
	in := imgInspect(t, h, reg.Addr+"/hk/multi:1")
	if in["Architecture"] != other || in["RepoDigests"].([]any)[0] != reg.Addr+"/hk/multi@"+idxDigest.String() {
		t.Errorf("--platform linux/%s: %v %v", other, in["Architecture"], in["RepoDigests"])
	}
	h.fails([]string{"platform linux/s390x", "no child with platform"}, "pull", "--platform", "linux/s390x", reg.Addr+"/hk/multi:1")
	h.ok("pull", "-q", reg.Addr+"/hk/multi@"+idxDigest.String())
	if in := imgInspect(t, h, reg.Addr+"/hk/multi@"+idxDigest.String()); in["Architecture"] != runtime.GOARCH {
		t.Errorf("by index digest: %v", in["Architecture"])
	}
	r := h.ok("images", "-q")
	if n := len(strings.Fields(r.out)); n != 2 {
		t.Errorf("%d images, want 2 (one per platform)", n)
	}
}

// Registry failures: each a clear error, nothing left in the store.
func TestImgPullErrors(t *testing.T) {
	t.Parallel()
	reg := imgStartRegistry(t, imgRegOpts{})
	h := newHK(t)
	reg.push("hk/x:1", imgBuild(t, runtime.GOARCH, nil, imgLayer(t, map[string]string{"x": uniq("x")})))
	h.fails([]string{"not in the registry", "hk/nope:1"}, "pull", reg.Addr+"/hk/nope:1")
	h.fails([]string{"not in the registry"}, "pull", reg.Addr+"/hk/x:2")
	h.fails([]string{"invalid reference format"}, "pull", reg.Addr+"/HK/x:1")
	h.fails([]string{"invalid reference format"}, "pull", "bad ref")
	closed := imgFreePort(t)
	h.fails([]string{"registry unreachable", "connection refused"}, "pull", closed+"/hk/x:1")
	reg.tamper.Store(true)
	h.fails([]string{"digest mismatch"}, "pull", reg.Addr+"/hk/x:1")
	reg.tamper.Store(false)
	if r := h.ok("images", "-q"); r.out != "" {
		t.Errorf("images after failed pulls: %q", r.out)
	}
	imgStoreEmpty(t, h)
	h.ok("image", "pull", reg.Addr+"/hk/x:1")
	h.fails([]string{"accepts 1 arg(s), received 0"}, "image", "pull")
}

// Basic auth through TLS with a test CA: refused without credentials or
// the CA, then login (checked against the registry), pull, logout; and
// Docker's config.json read as well.
func TestImgPullAuthTLS(t *testing.T) {
	t.Parallel()
	reg := imgStartRegistry(t, imgRegOpts{tls: true, auth: true})
	h := newHK(t)
	authDir := t.TempDir()
	h.env = append(h.env, "REGISTRY_AUTH_FILE="+filepath.Join(authDir, "auth.json"), "DOCKER_CONFIG="+filepath.Join(authDir, "docker"))
	reg.push("hk/private:1", imgBuild(t, runtime.GOARCH, []string{"sh"}, imgLayer(t, map[string]string{"secret": "s"})))
	ref := reg.Addr + "/hk/private:1"
	h.fails([]string{"access denied", "hk login"}, "pull", "--cert-dir", reg.caDir, ref)
	h.fails([]string{"certificate"}, "login", "-u", reg.user, "-p", reg.pass, reg.Addr)
	h.fails([]string{"unauthorized"}, "login", "--cert-dir", reg.caDir, "-u", reg.user, "-p", "wrong", reg.Addr)
	if _, err := os.Stat(filepath.Join(authDir, "auth.json")); err == nil {
		t.Error("a failed login wrote credentials")
	}
	if r := h.runIn([]byte(reg.pass+"\n"), "login", "--cert-dir", reg.caDir, "-u", reg.user, "--password-stdin", reg.Addr); r.code != 0 || r.out != "Login Succeeded\n" {
		t.Fatalf("login: %s", r)
	}
	h.fails([]string{"certificate"}, "pull", ref)
	h.ok("pull", "--cert-dir", reg.caDir, ref)
	h.ok("rmi", ref)
	if r := h.ok("logout", reg.Addr); !strings.Contains(r.out, "Removing login credentials for "+reg.Addr) {
		t.Errorf("logout: %s", r.out)
	}
	h.fails([]string{"access denied"}, "pull", "--cert-dir", reg.caDir, ref)
	os.MkdirAll(filepath.Join(authDir, "docker"), 0o700)
	auth := fmt.Sprintf(`{"auths":{"https://%s":{"auth":"%s"}}}`, reg.Addr, b64(reg.user+":"+reg.pass))
	os.WriteFile(filepath.Join(authDir, "docker", "config.json"), []byte(auth), 0o600)
	h.ok("pull", "--cert-dir", reg.caDir, ref)
	h.ok("pull", "--tls-verify=false", ref)
}

func b64(s string) string {
	return base64.StdEncoding.EncodeToString([]byte(s))
}

// push: an imported image goes to the registry with its config as it is
// (the same ID when pulled back); a second push sends no layer again; a
// pushed pulled image keeps its compressed layers.
func TestImgPush(t *testing.T) {
	t.Parallel()
	reg := imgStartRegistry(t, imgRegOpts{})
	h := newHK(t)
	ref := reg.Addr + "/hk/pushed:1"
	id := strings.TrimSpace(h.ok("import", "-c", "CMD [\"sh\"]", imgWrite(t, imgRootfsTar(t)), ref).out)
	r := h.ok("push", ref)
	if !strings.HasPrefix(r.out, "1: digest: sha256:") {
		t.Errorf("push: %q", r.out)
	}
	h.ok("image", "push", ref, reg.Addr+"/hk/copy:2")
	h2 := newHK(t)
	h2.ok("pull", "-q", ref)
	if got := imgInspect(t, h2, ref)["Id"]; got != id {
		t.Errorf("pulled back %v, pushed %s", got, id)
	}
	h2.ok("push", ref, reg.Addr+"/hk/again:3")
	h2.ok("pull", "-q", reg.Addr+"/hk/copy:2")
	h.fails([]string{"no such image"}, "push", reg.Addr+"/hk/nope:1")
	h.fails([]string{"registry unreachable"}, "push", ref, imgFreePort(t)+"/hk/x:1")
}
