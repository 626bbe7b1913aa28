// Package hooks runs runtime-spec lifecycle hooks: each hook's path with its
// args and env, the container state JSON on stdin, killed when its timeout
// passes. The runtime runs prestart, createRuntime, poststart and poststop
// hooks through it (internal/container); createContainer and
// startContainer hooks run inside the container, by init's plan
// (internal/initplan's hooks, plan.c's OP_HOOK), with the same rules.
package hooks
