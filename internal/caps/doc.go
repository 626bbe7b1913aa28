// Package caps parses the runtime-spec's five capability sets (bounding,
// effective, permitted, inheritable, ambient), refusing names this kernel
// does not know, and gives them as bit masks (Masks) for init's plan
// (internal/initplan), which hako-init applies to the thread that goes on
// to execve (plan.c: OP_BOUNDING, OP_CAPSET, OP_AMBIENT).
package caps
