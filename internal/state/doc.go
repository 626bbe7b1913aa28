// Package state keeps one directory per container under the runtime root
// (default /run/hako/<id>): state.json written atomically (temp file +
// rename), an exec.fifo while the container is created but not started, and a
// flock that serialises commands on the same container.
//
// The status is never trusted from disk: it is derived from the live init
// process (pid plus its start time, so a recycled pid is not mistaken for the
// container) each time it is asked for.
package state
