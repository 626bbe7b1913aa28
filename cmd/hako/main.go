// Command hako is an OCI container runtime. `hako init` is the container's
// first process (run by hako itself); everything else is the CLI.
package main

import (
	"os"

	"hako/internal/cli"
	"hako/internal/initproc"
	// The nsenter constructor joins namespaces before the Go runtime starts
	// (hako exec); it does nothing unless asked to.
	_ "hako/internal/nsenter"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		initproc.Main() // never returns
	}
	os.Exit(cli.Main(os.Args[1:]))
}
