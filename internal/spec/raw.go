package spec

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/rawfile"
)

// LoadRaw is Load that also returns config.json's bytes, which state.json
// stores as they are (re-encoding a specs.Spec with encoding/json costs a
// process ~0.5 ms of reflection set-up the first time).
func LoadRaw(bundle string) (*specs.Spec, []byte, error) {
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle %s: %w", bundle, err)
	}
	path := filepath.Join(abs, "config.json")
	data, err := rawfile.ReadFileLimit(path, maxConfigSize+1)
	var pe *os.PathError
	if errors.As(err, &pe) && pe.Op == "open" {
		return nil, nil, fmt.Errorf("load spec: %w", err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: read config: %w", path, err)
	}
	s, err := Decode(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	normalize(s, abs)
	if err := Validate(s); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, data, nil
}

// DecodeStored decodes a spec kept as config.json's bytes (see LoadRaw) and
// normalizes it against its bundle, as Load did.
func DecodeStored(data []byte, bundle string) (*specs.Spec, error) {
	s, err := Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	normalize(s, bundle)
	return s, nil
}
