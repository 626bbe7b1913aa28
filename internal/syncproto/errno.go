package syncproto

import (
	"errors"

	"golang.org/x/sys/unix"
)

func errnoOf(err error) int {
	var e unix.Errno
	if errors.As(err, &e) {
		return int(e)
	}
	return 0
}
