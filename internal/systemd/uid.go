package systemd

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"

	"hako/internal/rawfile"
)

// HostUID is this process's effective uid as systemd sees it: inside a
// user namespace (rootless podman calls the runtime from one, as uid 0),
// the uid it maps to outside. SASL EXTERNAL must name that uid, since the
// peer checks it against the socket's credentials.
func HostUID() int {
	euid := os.Geteuid()
	f, err := rawfile.Open("/proc/self/uid_map", os.O_RDONLY)
	if err != nil {
		return euid
	}
	defer f.Close()
	return mapUID(f, euid)
}

// mapUID maps uid through a uid_map text ("inside outside count" lines).
func mapUID(r io.Reader, uid int) int {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		in, err1 := strconv.ParseUint(f[0], 10, 32)
		out, err2 := strconv.ParseUint(f[1], 10, 32)
		n, err3 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		if u := uint64(uid); u >= in && u < in+n {
			return int(out + (u - in))
		}
	}
	return uid
}
