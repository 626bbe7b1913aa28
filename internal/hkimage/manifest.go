package hkimage

import (
	"encoding/json"
	"fmt"
	"os"

	"hako/internal/image"
)

// ociManifest is an OCI manifest for a stored image, over the blobs the
// store kept (save and push write it).
func ociManifest(s *image.Store, img *image.Image) (manifest []byte, layers []ociDescriptor, err error) {
	cfg, err := os.Stat(s.BlobPath(img.ID))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: config: %w", img.ID, err)
	}
	for i, b := range img.LayerBlobs {
		if b == "" {
			return nil, nil, fmt.Errorf("%s: layer %s: no blob kept", img.ID, img.DiffIDs[i])
		}
		fi, err := os.Stat(s.BlobPath(b))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: layer %s: %w", img.ID, b, err)
		}
		layers = append(layers, ociDescriptor{MediaType: layerMediaType(s.BlobPath(b)), Digest: b, Size: fi.Size()})
	}
	manifest, err = json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        ociDescriptor{MediaType: "application/vnd.oci.image.config.v1+json", Digest: img.ID, Size: cfg.Size()},
		"layers":        layers,
	})
	return manifest, layers, err
}
