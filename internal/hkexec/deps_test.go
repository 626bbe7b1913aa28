package hkexec

import (
	"os/exec"
	"strings"
	"testing"
)

// The runtime's binary must not link the payload's heavy libraries: each
// would run its package initialisers in every `hako create`, `state` and
// `start` (see doc.go).
func TestRuntimeDoesNotLinkPayloadLibraries(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "hako/cmd/hako").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	heavy := []string{"github.com/opencontainers/go-digest", "github.com/google/go-containerregistry", "github.com/schollz/progressbar", "github.com/opencontainers/image-spec", "net/http"}
	deps := strings.Fields(string(out))
	for _, d := range deps {
		for _, h := range heavy {
			if d == h || strings.HasPrefix(d, h+"/") {
				t.Errorf("cmd/hako links %s: it belongs in the payload (cmd/hk, hkcli.Delegated)", d)
			}
		}
	}
	if len(deps) < 10 {
		t.Fatalf("go list -deps hako/cmd/hako gave %d packages: %q", len(deps), out)
	}
}
