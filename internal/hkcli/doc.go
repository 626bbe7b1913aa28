// Package hkcli is the command line of hk, hako's docker-like front end:
// images in (pull, load, import), containers out (run, ps, logs, exec,
// stop, rm ...), with Docker's command and flag names, no daemon, as root
// or as an ordinary user.
//
// hk is the same binary as the runtime, reached under a second name
// (bin/hk is a symlink to bin/hako; cmd/hako dispatches on argv[0]), so
// that `hk run IMAGE` and the runtime's runc-compatible `hako run ID`
// can never be mistaken for each other (docs/design.md, "Two names").
//
// One file per verb; each registers its cobra command in init() with
// register, so verbs are added without touching a shared list.
package hkcli
