// Command hk is the payload of hako's docker-like front end: every verb
// of internal/hkcli plus the ones whose libraries are too heavy for the
// runtime's binary (hkcli.Delegated: pull, load, save ...). It is not
// installed on its own: `make build` embeds it in bin/hako, which runs it
// from a sealed memfd for those verbs (internal/hkexec; docs/design.md,
// "Two names").
package main

import (
	"os"

	"hako/internal/hkcli"
	// The image verbs: pull, login, logout, load, save, import.
	_ "hako/internal/hkimage"
)

func main() {
	os.Exit(hkcli.Main(os.Args[1:]))
}
