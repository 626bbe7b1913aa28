package busyboximage

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Image is one image of the archive: a name and its command. Every image
// of an archive shares the busybox layer.
type Image struct {
	Ref string   // e.g. "docker.io/hako-e2e/busybox:latest"
	Cmd []string // the image config's Cmd
}

// WriteArchive writes images to path as one tar that is both an OCI image
// layout (oci-layout, index.json, blobs/) and a docker-archive
// (manifest.json pointing at the same blobs): `ctr images import` and
// `podman load` read the OCI layout; Docker 20.10's `docker load` knows
// only the docker-archive. busybox is the static busybox binary to put in.
func WriteArchive(path, busybox string, images ...Image) error {
	layer, err := Layer(busybox)
	if err != nil {
		return err
	}
	layerDesc := blob("application/vnd.oci.image.layer.v1.tar", layer)
	files := []tarFile{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"blobs/", nil},
		{"blobs/sha256/", nil},
		{layerDesc.path(), layer},
	}
	var manifests []descriptor
	var dockerManifests []map[string]any
	for _, img := range images {
		cfg, _ := json.Marshal(map[string]any{
			"architecture": runtime.GOARCH,
			"os":           "linux",
			"created":      "2024-01-01T00:00:00Z",
			"config": map[string]any{
				"Env":        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
				"Cmd":        img.Cmd,
				"WorkingDir": "/",
			},
			"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layerDesc.Digest}},
		})
		cfgDesc := blob("application/vnd.oci.image.config.v1+json", cfg)
		manifest, _ := json.Marshal(map[string]any{
			"schemaVersion": 2,
			"mediaType":     "application/vnd.oci.image.manifest.v1+json",
			"config":        cfgDesc,
			"layers":        []descriptor{layerDesc},
		})
		mDesc := blob("application/vnd.oci.image.manifest.v1+json", manifest)
		files = append(files, tarFile{cfgDesc.path(), cfg}, tarFile{mDesc.path(), manifest})
		mDesc.Annotations = map[string]string{
			"io.containerd.image.name":          img.Ref,
			"org.opencontainers.image.ref.name": img.Ref,
		}
		manifests = append(manifests, mDesc)
		dockerManifests = append(dockerManifests, map[string]any{
			"Config":   cfgDesc.path(),
			"RepoTags": []string{img.Ref},
			"Layers":   []string{layerDesc.path()},
		})
	}
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests":     manifests,
	})
	dockerManifest, _ := json.Marshal(dockerManifests)
	files = append(files, tarFile{"index.json", index}, tarFile{"manifest.json", dockerManifest})

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if strings.HasSuffix(f.name, "/") {
			addDir(tw, f.name, 0o755)
		} else {
			addFile(tw, f.name, 0o644, f.data)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

type tarFile struct {
	name string
	data []byte
}

// Layer is the images' only layer, an uncompressed tar.
func Layer(busybox string) ([]byte, error) {
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return nil, fmt.Errorf("%w (install busybox-static)", err)
	}
	list, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", busybox, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "root", "home"} {
		addDir(tw, d+"/", 0o755)
	}
	addDir(tw, "tmp/", 0o1777)
	addFile(tw, "bin/busybox", 0o755, bin)
	for _, applet := range strings.Fields(string(list)) {
		if applet != "busybox" {
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox", Mode: 0o777, ModTime: epoch})
		}
	}
	addFile(tw, "etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"))
	addFile(tw, "etc/group", 0o644, []byte("root:x:0:\ntty:x:5:\nnogroup:x:65534:\n"))
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteRootfs unpacks the layer into dir, which must not exist or be
// empty: the rootfs of an OCI bundle. Only the entry types Layer writes
// are handled.
func WriteRootfs(dir, busybox string) error {
	layer, err := Layer(busybox)
	if err != nil {
		return err
	}
	tr := tar.NewReader(bytes.NewReader(layer))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := unpack(dir, h, tr); err != nil {
			return fmt.Errorf("unpack %s into %s: %w", h.Name, dir, err)
		}
	}
}

func unpack(dir string, h *tar.Header, r io.Reader) error {
	p := filepath.Join(dir, h.Name) // names come from Layer, not from a user
	switch h.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		return os.Chmod(p, os.FileMode(h.Mode)&os.ModePerm|modeBits(h.Mode))
	case tar.TypeSymlink:
		return os.Symlink(h.Linkname, p)
	case tar.TypeReg:
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		return os.WriteFile(p, data, os.FileMode(h.Mode))
	}
	return fmt.Errorf("unexpected tar entry type %q", h.Typeflag)
}

// modeBits carries the sticky bit of /tmp over (os.FileMode keeps it apart
// from the permission bits).
func modeBits(mode int64) os.FileMode {
	if mode&0o1000 != 0 {
		return os.ModeSticky
	}
	return 0
}

var epoch = time.Unix(1704067200, 0)

func addDir(tw *tar.Writer, name string, mode int64) {
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, ModTime: epoch})
}

func addFile(tw *tar.Writer, name string, mode int64, data []byte) {
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: epoch})
	tw.Write(data)
}

// descriptor is an OCI content descriptor.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int               `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func blob(mediaType string, data []byte) descriptor {
	sum := sha256.Sum256(data)
	return descriptor{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: len(data)}
}

func (d descriptor) path() string {
	return "blobs/sha256/" + strings.TrimPrefix(d.Digest, "sha256:")
}
