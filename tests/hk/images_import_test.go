package hk

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hako/tests/internal/busyboximage"
)

// imgRootfsTar is a rootfs tarball as `docker export` writes one: the
// busybox-static layer of the engines' test image.
func imgRootfsTar(t *testing.T) []byte {
	t.Helper()
	layer, err := busyboximage.Layer("/bin/busybox")
	if err != nil {
		t.Skip(err)
	}
	return layer
}

func imgWrite(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rootfs.tar")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// imgStoreEmpty fails the test if the store under h's root holds any
// layer, blob or leftover.
func imgStoreEmpty(t *testing.T, h *hkEnv) {
	t.Helper()
	for _, d := range []string{"layers", "blobs/sha256", "tmp"} {
		if ents, _ := os.ReadDir(filepath.Join(h.root, "image", d)); len(ents) != 0 {
			t.Errorf("image/%s: %d entries left", d, len(ents))
		}
	}
}

// imgInspect is `hk image inspect REF` decoded.
func imgInspect(t *testing.T, h *hkEnv, ref string) map[string]any {
	t.Helper()
	var out []map[string]any
	r := h.ok("image", "inspect", ref)
	if err := json.Unmarshal([]byte(r.out), &out); err != nil || len(out) != 1 {
		t.Fatalf("image inspect %s: %v\n%s", ref, err, r)
	}
	return out[0]
}

// The seeds' flow: a rootfs tarball in, with --change, listed, tagged,
// inspected, its layer a runnable root, removed with nothing left.
func TestImgImportFlow(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	tarPath := imgWrite(t, imgRootfsTar(t))
	r := h.ok("import", "--change", `CMD ["sh", "-c", "echo hi"]`, "--change", "ENV GREETING=hello WHO='the world'",
		"-c", "WORKDIR /tmp", "-c", "USER nobody", "-c", "ENTRYPOINT /bin/sh", tarPath, "seed:1")
	id := strings.TrimSpace(r.out)
	if !strings.HasPrefix(id, "sha256:") || len(id) != 71 {
		t.Fatalf("import printed %q", r.out)
	}
	r = h.ok("images")
	if !strings.HasPrefix(r.out, "REPOSITORY   TAG       IMAGE ID       CREATED") || !strings.Contains(r.out, "seed         1         "+id[7:19]) {
		t.Errorf("images:\n%s", r.out)
	}
	in := imgInspect(t, h, "seed:1")
	cfg := strings.TrimSpace(h.ok("image", "inspect", "-f", "{{json .Config}}", "seed:1").out)
	want := `{"User":"nobody","Env":["GREETING=hello","WHO=the world"],"Entrypoint":["/bin/sh","-c","/bin/sh"],"Cmd":["sh","-c","echo hi"],"WorkingDir":"/tmp"}`
	if cfg != want {
		t.Errorf("config %s\nwant   %s", cfg, want)
	}
	lower := in["GraphDriver"].(map[string]any)["Data"].(map[string]any)["LowerDir"].(string)
	if out, err := exec.Command("chroot", lower, "/bin/sh", "-c", "cat /etc/passwd | head -1").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "root:") {
		t.Errorf("the layer is not a runnable root: %s %v", out, err)
	}
	h.ok("tag", "seed:1", "127.0.0.1:5000/seed/copy:v2")
	h.ok("tag", id[7:15], "seed:latest")
	if r := h.ok("images", "-q"); strings.TrimSpace(r.out) != id[7:19] {
		t.Errorf("images -q: %q", r.out)
	}
	if r := h.ok("images", "--no-trunc", "--format", "{{.Repository}} {{.Tag}} {{.ID}}", "seed"); r.out != "seed 1 "+id+"\nseed latest "+id+"\n" && r.out != "seed latest "+id+"\nseed 1 "+id+"\n" {
		t.Errorf("images seed: %q", r.out)
	}
	if r := h.ok("image", "ls", "--format", "json", "127.0.0.1:5000/seed/copy"); !strings.Contains(r.out, `"Repository":"127.0.0.1:5000/seed/copy","Tag":"v2"`) {
		t.Errorf("image ls: %q", r.out)
	}
	h.fails([]string{"must be forced", "multiple repositories"}, "rmi", id)
	if r := h.ok("rmi", "seed:1"); r.out != "Untagged: seed:1\n" {
		t.Errorf("rmi seed:1: %q", r.out)
	}
	r = h.ok("image", "rm", "-f", id[7:19])
	if !strings.Contains(r.out, "Untagged: seed:latest\n") || !strings.Contains(r.out, "Deleted: "+id+"\n") {
		t.Errorf("image rm -f: %q", r.out)
	}
	if r := h.ok("images", "-q"); r.out != "" {
		t.Errorf("images after rmi: %q", r.out)
	}
	imgStoreEmpty(t, h)
}

// A compressed tarball from stdin; no name gives a dangling image that
// prune removes.
func TestImgImportStdinPrune(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(imgRootfsTar(t))
	zw.Close()
	r := h.runIn(gz.Bytes(), "import", "-")
	if r.code != 0 {
		t.Fatal(r)
	}
	if r := h.ok("images"); !strings.Contains(r.out, "<none>       <none>    "+strings.TrimSpace(r.out)[7:19]) && !strings.Contains(r.out, "<none>") {
		t.Errorf("images: %s", r.out)
	}
	if r := h.runIn([]byte("n\n"), "image", "prune"); r.code != 0 || !strings.Contains(r.out, "Are you sure") {
		t.Errorf("prune without -f: %s", r)
	}
	if r := h.ok("images", "-q"); r.out == "" {
		t.Error("prune removed without a yes")
	}
	r = h.ok("image", "prune", "-f")
	if !strings.Contains(r.out, "Deleted Images:\ndeleted: sha256:") || !strings.Contains(r.out, "MB\n") {
		t.Errorf("prune: %s", r.out)
	}
	imgStoreEmpty(t, h)
}

// Bad input: a clear error, exit non-zero, nothing left behind.
func TestImgBadInput(t *testing.T) {
	t.Parallel()
	h := newHK(t)
	good := imgRootfsTar(t)
	h.fails([]string{"corrupt or truncated tar"}, "import", imgWrite(t, bytes.Repeat([]byte("garbage!"), 512)), "bad:1")
	h.fails([]string{"corrupt or truncated tar"}, "import", imgWrite(t, good[:len(good)/2]), "bad:2")
	h.fails([]string{"empty"}, "import", imgWrite(t, nil), "bad:3")
	h.fails([]string{"no such file or directory"}, "import", "/nonexistent.tar")
	h.fails([]string{"invalid reference format", "UPPER"}, "import", imgWrite(t, good), "UPPER")
	h.fails([]string{"--change", "FROM is not one of"}, "import", "-c", "FROM x", imgWrite(t, good))
	if r := h.ok("images", "-q"); r.out != "" {
		t.Errorf("images after failed imports: %q", r.out)
	}
	imgStoreEmpty(t, h)
	h.fails([]string{"no such image: nope"}, "rmi", "nope")
	h.fails([]string{"no such image: nope"}, "image", "inspect", "nope")
	h.fails([]string{"no such image: nope"}, "tag", "nope", "x")
	name := uniq("ok") + ":1"
	h.ok("import", imgWrite(t, good), name)
	h.fails([]string{"invalid reference format"}, "tag", name, "Bad:Ref:x")
	h.fails([]string{"accepts 2 arg(s), received 1"}, "tag", name)
	h.fails([]string{"unknown flag: --bogus"}, "images", "--bogus")
	h.ok("rmi", name)
	imgStoreEmpty(t, h)
}
