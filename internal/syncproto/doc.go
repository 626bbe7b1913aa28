// Package syncproto is the conversation between the runtime (parent) and the
// container's init process over a unix socketpair, as newline-delimited JSON.
//
// Messages, in the only order either side accepts:
//
//	| # | direction     | message    | meaning                                                        |
//	|---|---------------|------------|----------------------------------------------------------------|
//	| 1 | parent → init | config     | the spec and runtime options; init starts building the root    |
//	| - | init → parent | trace      | a finished step, any time before ready (only with --trace)     |
//	| 2 | init → parent | hooks      | mounts done, before pivot_root: run prestart+createRuntime now  |
//	| 3 | parent → init | hooks-done | hooks ran; init runs createContainer hooks and pivots          |
//	| 4 | init → parent | ready      | everything set up; init now waits for start (exec.fifo)        |
//	| * | init → parent | error      | a step failed; init exits; replaces any of 2 and 4             |
//	| - | init → parent | warning    | something was not applied as asked (printed, not fatal)        |
//
// Message 2/3 are skipped when the spec has no prestart/createRuntime hooks
// (init sends nothing and does not wait), which saves a round trip on the hot
// path. A message out of order is an error on the receiving side: each side
// knows exactly what it expects next. The socket is close-on-exec, so the
// user program never sees it; after ready, EOF means init exec'd or died.
package syncproto
