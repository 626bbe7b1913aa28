package hk

import (
	"strings"
	"testing"
)

// The two names never share a command line: hk has Docker's verbs, the
// runtime runc's, and each says so for the other's.
func TestTwoNames(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	if r := h.ok("version"); !strings.HasPrefix(r.out, "hk (hako) version ") {
		t.Errorf("hk version: %s", r)
	}
	h.fails([]string{"unknown flag: --bogus"}, "--bogus")
	verb := uniq("verb")
	if r := h.fails([]string{`unknown command "` + verb + `"`}, verb); r.code != 2 {
		t.Errorf("hk %s: want exit 2 (bad usage): %s", verb, r)
	}
	if r := h.run("--help"); r.code != 0 || !strings.Contains(r.out, "pull") {
		t.Errorf("hk --help lists no pull: %s", r)
	}
}
