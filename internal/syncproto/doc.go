// Package syncproto is the conversation between the runtime (parent) and the
// container's init process, hako-init's plan executor
// (internal/nsenter/c/plan.c), over a unix socketpair, as newline-delimited
// JSON. Message 1 alone is binary: the plan (internal/initplan). init never
// asks for rlimits when the parent could apply them before sending the plan
// (initplan.RlimitsBeforePlan).
//
// Messages, in the only order either side accepts:
//
//	| # | direction     | message    | meaning                                                        |
//	|---|---------------|------------|----------------------------------------------------------------|
//	| 1 | parent → init | (plan)     | the compiled plan (binary); init starts building the root      |
//	| p | init → parent | primed     | (plan, parent joins unasked) scratch memory touched, plan read  |
//	| a | init → parent | cgroup     | (v1) move me into the container's cgroup now                    |
//	| b | parent → init | cgroup-ok  | cgroup.procs written; init unshares its cgroup namespace       |
//	| - | init → parent | trace      | a finished step, any time until exec (only with --trace)       |
//	| 2 | init → parent | hooks      | mounts done, before pivot_root: run prestart+createRuntime now  |
//	| 3 | parent → init | hooks-done | hooks ran; init runs createContainer hooks and pivots          |
//	| 4 | init → parent | rlimits    | set-up done but for the uid change: apply process.rlimits now  |
//	| 5 | parent → init | rlimits-ok | prlimit(2) applied; init changes uid and finishes            |
//	| 6 | init → parent | ready      | everything set up; init now waits for start (exec.fifo)        |
//	| * | init → parent | error      | a step failed; init exits; replaces 2, 4 or 6                   |
//	| - | init → parent | warning    | something was not applied as asked (printed, not fatal)        |
//
// Messages a/b happen only where init cannot be cloned straight into its
// cgroup (cgroup v1). The parent moves init as soon as both the cgroup
// exists and init said p, and sends b unasked; init still sends a, then
// reads the b already waiting for it. (p matters: moved before it has
// touched its stack and buffers, init's own ~130 KiB were charged to the
// container in a race that made the smallest working memory.limit vary
// from run to run. Joining only once init has started leaves the memory it
// needed to start charged to hako, not to the container's limit; measured
// with the Go init this replaced: the smallest working memory.limit for
// `run /bin/true` went from 1.7 MiB to 416 KiB.)
//
// Messages 2/3 are skipped when the spec has no prestart/createRuntime hooks,
// and 4/5 when it has no rlimits (init sends nothing and does not wait),
// which saves round trips on the hot path. Rlimits are applied by the parent
// (which keeps CAP_SYS_RESOURCE for raising a hard limit), as late as
// possible (a small RLIMIT_AS must not starve init's own set-up) but while
// init still has the parent's uid (prlimit on another uid needs
// CAP_SYS_RESOURCE, which some hosts withhold even from root).
//
// A message out of order is an error on the receiving side: each side knows
// exactly what it expects next. The socket is close-on-exec, so the
// user program never sees it; after ready, EOF means init exec'd or died.
package syncproto
