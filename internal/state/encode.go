package state

import (
	"bytes"
	"encoding/json"
	"time"

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

func encode(s *State) ([]byte, error) {
	raw := s.SpecJSON
	if raw == nil {
		var err error
		if raw, err = json.Marshal(s.Spec); err != nil {
			return nil, err
		}
	} else if !json.Valid(raw) {
		raw = nil // never write a state.json that cannot be read back
		var err error
		if raw, err = json.Marshal(s.Spec); err != nil {
			return nil, err
		}
	}
	return json.Marshal(stateFile{ID: s.ID, Pid: s.Pid, PidStart: s.PidStart, Bundle: s.Bundle, Rootfs: s.Rootfs,
		Created: s.Created, Owner: s.Owner, Annotations: s.Annotations, Cgroups: s.Cgroups,
		Spec: bytes.TrimSpace(raw), Creating: s.Creating})
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
