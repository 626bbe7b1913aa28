package state

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"hako/internal/spec"
)

// stateFile is state.json's layout with the spec left as raw JSON, so that
// neither writing nor reading it builds encoding/json's reflection caches
// for the whole specs.Spec type tree (~0.5 ms per process, per direction;
// the spec goes through spec.DecodeStored instead).
type stateFile struct {
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	PidStart    uint64            `json:"pidStart"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Cgroups     map[string]string `json:"cgroups,omitempty"`
	Spec        json.RawMessage   `json:"spec"`
	Creating    bool              `json:"creating,omitempty"`
}

// encode writes state.json by hand: encoding/json's first Marshal of
// stateFile in a process builds its reflection encoders, ~160 us of every
// create (measured; a second call takes 4 us). The output is what
// json.Marshal(stateFile) gives, less the HTML escaping and the creating
// field (TestEncodeMatchesJSON).
func encode(s *State) ([]byte, error) {
	raw := bytes.TrimSpace(s.SpecJSON)
	if raw == nil || !json.Valid(raw) { // never write a state.json that cannot be read back
		var err error
		if raw, err = json.Marshal(s.Spec); err != nil {
			return nil, err
		}
	}
	b := make([]byte, 0, 512+len(raw))
	b = append(b, `{"id":`...)
	b = appendString(b, s.ID)
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(s.Pid), 10)
	b = append(b, `,"pidStart":`...)
	b = strconv.AppendUint(b, s.PidStart, 10)
	b = append(b, `,"bundle":`...)
	b = appendString(b, s.Bundle)
	b = append(b, `,"rootfs":`...)
	b = appendString(b, s.Rootfs)
	b = append(b, `,"created":`...)
	t, err := s.Created.MarshalJSON()
	if err != nil {
		return nil, err
	}
	b = append(b, t...)
	b = append(b, `,"owner":`...)
	b = appendString(b, s.Owner)
	if len(s.Annotations) > 0 {
		b = append(b, `,"annotations":`...)
		b = appendMap(b, s.Annotations)
	}
	if len(s.Cgroups) > 0 {
		b = append(b, `,"cgroups":`...)
		b = appendMap(b, s.Cgroups)
	}
	b = append(b, `,"spec":`...)
	b = append(b, raw...)
	// Not s.Creating: a create in progress is marked by a file of its own
	// (MarkCreating), so state.json is written once.
	return append(b, '}'), nil
}

func appendMap(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD (as encoding/json).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

func decode(data []byte) (*State, error) {
	var f stateFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	s := &State{ID: f.ID, Pid: f.Pid, PidStart: f.PidStart, Bundle: f.Bundle, Rootfs: f.Rootfs,
		Created: f.Created, Owner: f.Owner, Annotations: f.Annotations, Cgroups: f.Cgroups,
		Creating: f.Creating}
	if len(f.Spec) > 0 && string(f.Spec) != "null" {
		sp, err := spec.DecodeStored(f.Spec, f.Bundle)
		if err != nil {
			return nil, err
		}
		s.Spec, s.SpecJSON = sp, f.Spec
	}
	return s, nil
}
