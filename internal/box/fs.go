package box

import (
	"os"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// mkdirIn creates dir (an absolute path inside root) with its parents,
// resolving every component inside root. hk runs this on the container's
// own rootfs before any process of the container exists, so nothing
// inside can swap a component for a symlink in between.
func mkdirIn(root, dir string) error {
	p, err := securejoin.SecureJoin(root, dir)
	if err != nil {
		return err
	}
	return os.MkdirAll(p, 0o755)
}
