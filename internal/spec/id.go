package spec

import (
	"errors"
	"fmt"
)

// maxIDLen bounds container ids: they become directory and cgroup names.
const maxIDLen = 1024

// ValidateID refuses ids that are unsafe as a state directory name. The
// character set is runc's (^[\w+-\.]+$, read as intended: letters, digits,
// '_', '+', '-', '.'), which also keeps '/' and NUL out.
func ValidateID(id string) error {
	switch {
	case id == "":
		return errors.New("container id is empty")
	case id == "." || id == "..":
		return fmt.Errorf("invalid container id %q", id)
	case len(id) > maxIDLen:
		return fmt.Errorf("container id is %d bytes long, more than %d", len(id), maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		if !idChar(id[i]) {
			return fmt.Errorf("invalid container id %q: character %q at %d (allowed: A-Z a-z 0-9 _ + - .)", id, id[i], i)
		}
	}
	return nil
}

func idChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c == '_' || c == '+' || c == '-' || c == '.'
}
