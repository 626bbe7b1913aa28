package seccomp

import "fmt"

// ProfileError is a profile the compiler rejects. Field is the path below
// linux.seccomp, such as "syscalls[3].names[0]".
type ProfileError struct {
	Field string
	Msg   string
}

func (e *ProfileError) Error() string {
	return "linux.seccomp." + e.Field + ": " + e.Msg
}

func fieldErr(field, format string, args ...any) error {
	return &ProfileError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
