// Package container is the runtime side of a container's life: create
// (spawn init into new namespaces and drive it through the sync protocol),
// start, state, kill and delete. It is a library: the CLI in internal/cli is
// one front end, and a docker-like front end can drive the same calls.
//
// Needs: namespaces (clone flags), /proc, cgroups (see package cgroups).
package container
