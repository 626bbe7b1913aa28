package spec

import "errors"

// ErrInvalid is matched (errors.Is) by every error Validate returns.
var ErrInvalid = errors.New("invalid config")

// FieldError is a problem with one field of config.json, such as
// `process.args: empty`.
type FieldError struct {
	Field string // e.g. "linux.namespaces[2]", `root.path "/x/rootfs"`
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Is makes errors.Is(err, ErrInvalid) true for every FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }
