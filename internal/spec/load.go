package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/rawfile"
)

// maxConfigSize bounds what Decode reads: real configs are a few KiB, and a
// runaway file (or /dev/zero symlinked as config.json) must not eat memory.
const maxConfigSize = 64 << 20

// Load reads <bundle>/config.json, resolves a relative root.path against
// the bundle and validates the result.
func Load(bundle string) (*specs.Spec, error) {
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", bundle, err)
	}
	path := filepath.Join(abs, "config.json")
	f, err := rawfile.Open(path, os.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("load spec: %w", err)
	}
	defer f.Close()
	s, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	normalize(s, abs)
	if err := Validate(s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// normalize makes root.path absolute (runtime-spec: relative to the bundle)
// and mount destinations absolute. runtime-spec 1.0 required absolute
// destinations but runc has always accepted relative ones as relative to
// "/", and older configs rely on that.
func normalize(s *specs.Spec, bundle string) {
	if s.Root != nil && s.Root.Path != "" && !filepath.IsAbs(s.Root.Path) {
		s.Root.Path = filepath.Join(bundle, s.Root.Path)
	}
	for i := range s.Mounts {
		d := s.Mounts[i].Destination
		if d != "" && !filepath.IsAbs(d) {
			s.Mounts[i].Destination = filepath.Join("/", d)
		}
	}
}

// Decode parses a config.json. Unknown fields are accepted, as runtime-spec
// requires for forward compatibility; syntax and type errors name the line,
// column and field.
func Decode(r io.Reader) (*specs.Spec, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("config larger than %d bytes", maxConfigSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("config is empty")
	}
	// The hand-written decoder skips encoding/json's per-process reflection
	// set-up; it gives up on anything it is not sure of, and encoding/json
	// then produces the canonical result or the error.
	if s, ok := decodeFast(data); ok {
		return s, nil
	}
	var s specs.Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&s); err != nil {
		return nil, jsonError(data, err)
	}
	rest := data[dec.InputOffset():]
	if extra := bytes.TrimLeft(rest, " \t\r\n"); len(extra) != 0 {
		off := int64(len(data) - len(extra))
		return nil, fmt.Errorf("%s: unexpected data after the JSON object", position(data, off))
	}
	return &s, nil
}

// jsonError adds the position (and field, for a type error) to err.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset counts the bytes read, including the offending one.
		return fmt.Errorf("%s: %w", position(data, syn.Offset-1), err)
	case errors.As(err, &typ):
		return fmt.Errorf("%s: field %s: cannot use JSON %s as %s: %w",
			position(data, typ.Offset), typ.Field, typ.Value, typ.Type, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: truncated JSON: %w", position(data, int64(len(data))), err)
	}
	return fmt.Errorf("decode config: %w", err)
}

// position renders a byte offset as "line L, column C (offset O)".
func position(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return fmt.Sprintf("line %d, column %d (offset %d)", line, col, off)
}
