package hkimage

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/spf13/pflag"

	"hako/internal/cli"
	"hako/internal/image"
)

// regFlags are the registry flags pull, login and push share (podman's
// names; Docker has them in its daemon's configuration).
type regFlags struct {
	tlsVerify bool
	certDir   string
}

func (r *regFlags) add(f *pflag.FlagSet) {
	f.BoolVar(&r.tlsVerify, "tls-verify", true, "require HTTPS and verify certificates (false: plain HTTP or any certificate)")
	f.StringVar(&r.certDir, "cert-dir", "", "use the certificates (*.crt: CAs) in this directory for the registry")
}

// insecure reports whether host may be reached without TLS
// verification: --tls-verify=false, or a loopback registry (Docker's
// rule: 127.0.0.0/8 is an insecure registry by default), or one named in
// $HK_INSECURE_REGISTRIES (comma-separated host[:port]).
func (r *regFlags) insecure(host string) bool {
	if !r.tlsVerify {
		return true
	}
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	if h == "localhost" {
		return true
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return true
	}
	for _, x := range strings.Split(os.Getenv("HK_INSECURE_REGISTRIES"), ",") {
		if x != "" && (x == host || x == h) {
			return true
		}
	}
	return false
}

// reference is ref as go-containerregistry names it.
func (r *regFlags) reference(ref image.Ref) (name.Reference, error) {
	var opts []name.Option
	if r.insecure(ref.Domain) {
		opts = append(opts, name.Insecure)
	}
	s := ref.Repo() + ":" + ref.Tag
	if ref.Digest != "" {
		s = ref.Repo() + "@" + ref.Digest
	}
	return name.ParseReference(s, opts...)
}

// transport is the HTTP transport for host: the system's CAs plus those
// of --cert-dir or certs.d (podman's /etc/containers/certs.d/HOST and
// Docker's /etc/docker/certs.d/HOST), no verification when told.
func (r *regFlags) transport(host string) (http.RoundTripper, error) {
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if !r.tlsVerify {
		cfg.InsecureSkipVerify = true
	}
	dirs := []string{r.certDir}
	if r.certDir == "" {
		dirs = []string{filepath.Join("/etc/containers/certs.d", host), filepath.Join("/etc/docker/certs.d", host)}
		if os.Geteuid() != 0 {
			if cfgDir, err := os.UserConfigDir(); err == nil {
				dirs = append([]string{filepath.Join(cfgDir, "containers/certs.d", host)}, dirs...)
			}
		}
	}
	for _, d := range dirs {
		crts, _ := filepath.Glob(filepath.Join(d, "*.crt"))
		for _, c := range crts {
			pem, err := os.ReadFile(c)
			if err != nil {
				return nil, err
			}
			if cfg.RootCAs == nil {
				if cfg.RootCAs, err = x509.SystemCertPool(); err != nil {
					cfg.RootCAs = x509.NewCertPool()
				}
			}
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s: no PEM certificate in it", c)
			}
		}
	}
	tr.TLSClientConfig = cfg
	return tr, nil
}

// remoteOptions are go-containerregistry's options for a registry
// operation on host.
func (r *regFlags) remoteOptions(ctx context.Context, host string, platform *v1.Platform) ([]remote.Option, error) {
	tr, err := r.transport(host)
	if err != nil {
		return nil, err
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(tr),
		remote.WithAuthFromKeychain(keychain{}),
		remote.WithUserAgent("hk/" + cli.Version),
		remote.WithJobs(4),
	}
	if platform != nil {
		opts = append(opts, remote.WithPlatform(*platform))
	}
	return opts, nil
}

// hostPlatform is the platform pull picks from a multi-arch index.
func hostPlatform() v1.Platform {
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm64" {
		p.Variant = "v8"
	}
	return p
}

// regError words a registry failure for a person: what went wrong and
// what to do, keeping the registry's own words.
func regError(ref string, err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		for _, d := range te.Errors {
			switch d.Code {
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode:
				return fmt.Errorf("%w: %s: not in the registry (%v)", image.ErrNotFound, ref, err)
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return fmt.Errorf("%s: access denied: log in with `hk login` (%v)", ref, err)
			}
		}
		switch te.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %s: not in the registry (%v)", image.ErrNotFound, ref, err)
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%s: access denied: log in with `hk login` (%v)", ref, err)
		}
	}
	if strings.Contains(err.Error(), "error verifying sha256 checksum") { // go-containerregistry's check of a blob
		return fmt.Errorf("%s: %w: %w", ref, image.ErrDigest, err)
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) {
		return fmt.Errorf("%s: registry unreachable: %w", ref, err)
	}
	return fmt.Errorf("%s: %w", ref, err)
}
