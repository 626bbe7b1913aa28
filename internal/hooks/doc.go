// Package hooks runs runtime-spec lifecycle hooks: each hook's path with its
// args and env, the container state JSON on stdin, killed when its timeout
// passes. Which namespace a hook runs in is the caller's business (see
// container and initproc for where each kind runs).
package hooks
