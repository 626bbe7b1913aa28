// Command hako is an OCI container runtime (the CLI; a container's init is
// hako-init, the C program embedded in it, see internal/nsenter). Under the
// name hk (a symlink to the same binary) it is the docker-like front end
// (internal/hkcli); the front end's verbs that need heavy libraries (pull,
// load, save ...) are a second program embedded in this one (cmd/hk,
// internal/hkexec).
//
// hako processes live for milliseconds: the Go runtime's cgroup-aware
// GOMAXPROCS (reading /proc/self/cgroup, mountinfo and cpu.max at start,
// and again from sysmon while running) is work they never benefit from.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"os"
	"path/filepath"

	"hako/internal/cli"
	"hako/internal/hkcli"
	"hako/internal/hkexec"
	// hako-init's Go side; its package init gives hako's threads 4 ms of
	// timer slack (see internal/nsenter).
	_ "hako/internal/nsenter"
)

func main() {
	if filepath.Base(os.Args[0]) == "hk" {
		hkcli.Payload = hkexec.Exec
		os.Exit(hkcli.Main(os.Args[1:]))
	}
	os.Exit(cli.Main(os.Args[1:]))
}
