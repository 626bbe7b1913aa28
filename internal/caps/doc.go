// Package caps applies the runtime-spec's five capability sets (bounding,
// effective, permitted, inheritable, ambient) to the calling thread.
//
// Preconditions: capability sets are per thread; callers must run on a locked
// OS thread that goes on to execve (see initproc), or the sets land on a
// thread that never runs the user program.
package caps
