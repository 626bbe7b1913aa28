package hkimage

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"hako/internal/image"
)

// authFile is where `hk login` keeps credentials: podman's file,
// $REGISTRY_AUTH_FILE or $XDG_RUNTIME_DIR/containers/auth.json
// (/run/containers/UID/auth.json without XDG_RUNTIME_DIR, as podman).
func authFile() string {
	if f := os.Getenv("REGISTRY_AUTH_FILE"); f != "" {
		return f
	}
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		return filepath.Join(x, "containers", "auth.json")
	}
	return fmt.Sprintf("/run/containers/%d/auth.json", os.Getuid())
}

// dockerConfig is Docker's credentials file.
func dockerConfig() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".docker", "config.json")
}

// authConfig is the format of both files (only what hk uses of it).
type authConfig struct {
	Auths map[string]authEntry `json:"auths"`
	rest  map[string]json.RawMessage
}

type authEntry struct {
	Auth          string `json:"auth,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
}

func readAuth(path string) (*authConfig, error) {
	c := &authConfig{Auths: map[string]authEntry{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &c.rest); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if a, ok := c.rest["auths"]; ok {
		if err := json.Unmarshal(a, &c.Auths); err != nil {
			return nil, fmt.Errorf("%s: auths: %w", path, err)
		}
	}
	return c, nil
}

// write keeps the file's other keys (Docker's config has many).
func (c *authConfig) write(path string) error {
	if c.rest == nil {
		c.rest = map[string]json.RawMessage{}
	}
	a, _ := json.Marshal(c.Auths)
	c.rest["auths"] = a
	b, err := json.MarshalIndent(c.rest, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// lookup finds host's entry; keys may be "host", "https://host" or
// "https://host/v1/".
func (c *authConfig) lookup(host string) (authEntry, bool) {
	for k, e := range c.Auths {
		if authKey(k) == host {
			return e, true
		}
	}
	return authEntry{}, false
}

func authKey(k string) string {
	k = strings.TrimPrefix(strings.TrimPrefix(k, "https://"), "http://")
	k, _, _ = strings.Cut(k, "/")
	return k
}

// keychain finds credentials for a registry: hk login's (podman's) file
// first, then Docker's; anonymous when neither has the registry.
// Credential helpers (credsStore) are not run.
type keychain struct{}

func (keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	hosts := []string{r.RegistryStr()}
	if r.RegistryStr() == name.DefaultRegistry {
		hosts = append(hosts, image.DefaultDomain)
	}
	for _, f := range []string{authFile(), dockerConfig()} {
		c, err := readAuth(f)
		if err != nil {
			return nil, err
		}
		for _, h := range hosts {
			if e, ok := c.lookup(h); ok {
				return entryAuth(e)
			}
		}
	}
	return authn.Anonymous, nil
}

func entryAuth(e authEntry) (authn.Authenticator, error) {
	if e.IdentityToken != "" {
		return authn.FromConfig(authn.AuthConfig{IdentityToken: e.IdentityToken}), nil
	}
	b, err := base64.StdEncoding.DecodeString(e.Auth)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	user, pass, _ := strings.Cut(string(b), ":")
	return &authn.Basic{Username: user, Password: pass}, nil
}
