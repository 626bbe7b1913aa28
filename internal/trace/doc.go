// Package trace is hako's single step mechanism. Every kernel-visible step of
// building a container (clone, id-map writes, each mount, pivot_root, cgroup
// writes, capability sets, exec) runs through Log.Step, which
//
//   - times the step and, with --trace, prints it as it happens, and
//   - wraps a failure in a *StepError naming the step, its operands and, where
//     hako knows it, the likely cause.
//
// Inside the container the sink is the sync socket (see package syncproto), so
// the parent prints init's steps too. No kernel feature is needed.
package trace
