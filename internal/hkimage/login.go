package hkimage

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/spf13/cobra"

	"hako/internal/hkcli"
	"hako/internal/image"
)

func init() {
	hkcli.Register(loginCmd)
	hkcli.Register(logoutCmd)
}

func loginCmd(env *hkcli.Env) *cobra.Command {
	var reg regFlags
	var user, pass string
	var passStdin bool
	c := &cobra.Command{
		Use:   "login [OPTIONS] SERVER",
		Short: "Log in to a registry",
		Long: "Log in to a registry: the credentials are checked against it, then kept in\n" +
			"$REGISTRY_AUTH_FILE, or $XDG_RUNTIME_DIR/containers/auth.json (podman's file), which\n" +
			"pull reads before ~/.docker/config.json.",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if passStdin {
				line, err := bufio.NewReader(os.Stdin).ReadString('\n')
				if err != nil && line == "" {
					return fmt.Errorf("--password-stdin: no password on stdin")
				}
				pass = strings.TrimRight(line, "\r\n")
			}
			if user == "" || pass == "" {
				return fmt.Errorf("login: give --username and --password (or --password-stdin)")
			}
			host := serverHost(args[0])
			if err := checkLogin(c.Context(), &reg, host, user, pass); err != nil {
				return err
			}
			f := authFile()
			cfg, err := readAuth(f)
			if err != nil {
				return err
			}
			cfg.Auths[host] = authEntry{Auth: base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}
			if err := cfg.write(f); err != nil {
				return fmt.Errorf("keep the credentials in %s: %w", f, err)
			}
			fmt.Fprintln(c.OutOrStdout(), "Login Succeeded")
			return nil
		},
	}
	f := c.Flags()
	reg.add(f)
	f.StringVarP(&user, "username", "u", "", "username")
	f.StringVarP(&pass, "password", "p", "", "password")
	f.BoolVar(&passStdin, "password-stdin", false, "take the password from stdin")
	return c
}

func logoutCmd(env *hkcli.Env) *cobra.Command {
	return &cobra.Command{
		Use:   "logout [SERVER]",
		Short: "Log out from a registry",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			host := image.DefaultDomain
			if len(args) == 1 {
				host = serverHost(args[0])
			}
			f := authFile()
			cfg, err := readAuth(f)
			if err != nil {
				return err
			}
			found := false
			for k := range cfg.Auths {
				if authKey(k) == host {
					delete(cfg.Auths, k)
					found = true
				}
			}
			if !found {
				return fmt.Errorf("not logged in to %s", host)
			}
			if err := cfg.write(f); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "Removing login credentials for %s\n", host)
			return nil
		},
	}
}

// serverHost is the registry host of a login argument: "host[:port]",
// with or without https:// and a path.
func serverHost(s string) string { return authKey(s) }

// checkLogin asks the registry for /v2/ with the credentials (after the
// token exchange, where the registry wants one).
func checkLogin(ctx context.Context, reg *regFlags, host, user, pass string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	var opts []name.Option
	if reg.insecure(host) {
		opts = append(opts, name.Insecure)
	}
	r, err := name.NewRegistry(host, opts...)
	if err != nil {
		return fmt.Errorf("login %s: %w", host, err)
	}
	tr, err := reg.transport(host)
	if err != nil {
		return err
	}
	auth := &authn.Basic{Username: user, Password: pass}
	rt, err := transport.NewWithContext(ctx, r, auth, tr, []string{r.Scope(transport.PullScope)})
	if err != nil {
		return regError("login "+host, err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+"/v2/", nil)
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return regError("login "+host, err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return errors.New("login " + host + ": unauthorized: wrong username or password")
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("login %s: the registry answered %s", host, resp.Status)
	}
	return nil
}
