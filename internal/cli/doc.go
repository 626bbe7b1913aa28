// Package cli is hako's command line: global flags, then one file per verb,
// runc-compatible so containerd, Docker and podman can call hako as they call
// runc. It parses flags and calls package container; nothing else.
package cli
