package hk

import (
	"runtime"
	"strings"
	"testing"
)

// `run` of an image the store does not have pulls it first, as Docker
// does, from a registry the test started; the container's root is the
// overlay of the image's three layers, top one winning.
func TestBoxRunPulls(t *testing.T) {
	t.Parallel()
	reg := imgStartRegistry(t, imgRegOpts{})
	h := newHK(t)
	base := imgTarLayer(t, imgRootfsTar(t))
	mid := imgLayer(t, map[string]string{"etc/layer": "mid", "etc/mid-only": "m"})
	top := imgLayer(t, map[string]string{"etc/layer": "top"})
	reg.push("hk/run:1", imgBuild(t, runtime.GOARCH, []string{"sh"}, base, mid, top))
	ref := reg.Addr + "/hk/run:1"
	r := h.ok("run", "--rm", ref, "cat", "/etc/layer", "/etc/mid-only")
	if r.out != "topm" || !strings.Contains(r.err, "Unable to find image") {
		t.Errorf("run of a missing image: %s", r)
	}
	if r := h.ok("images", "-q"); strings.Count(r.out, "\n") != 1 {
		t.Errorf("images after run: %s", r)
	}
	// The second run finds it in the store.
	if r := h.ok("run", "--rm", ref, "true"); strings.Contains(r.err, "Unable to find image") {
		t.Errorf("second run pulled again: %s", r)
	}
	boxNothingLeft(t, h, "")
}
