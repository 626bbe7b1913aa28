// Command hako is an OCI container runtime. `hako init` is the container's
// first process (run by hako itself); everything else is the CLI.
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

	"hako/internal/cli"
	"hako/internal/initproc"
	// hako-init's Go side; its package init gives hako's threads 1 ms of
	// timer slack (see internal/nsenter).
	_ "hako/internal/nsenter"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		initproc.Main() // never returns
	}
	os.Exit(cli.Main(os.Args[1:]))
}
