// Package guest holds what the suites that run inside the systemd test VM
// (tests/systemd, tests/k8s; scripts/sysvm, docs/systemd-vm.md) share:
// running commands as root without hanging on a daemon they leave behind,
// polling for a condition, and asking systemd about units and checking that
// it kept none. Every helper fails the test it is given (t.Fatal) or, for
// Try, never fails anything.
//
// Not for the host's own suites: it assumes systemd as PID 1 and the pure
// cgroup v2 hierarchy of the VM.
package guest
