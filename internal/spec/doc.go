// Package spec loads, checks and generates OCI runtime-spec config.json files.
//
// It decodes a bundle's config.json with errors that point at the offending
// line and field, validates it before anything is created (naming the field
// that is wrong), writes the `hako spec` template (runc 1.1's, with
// --rootless), and parses the string forms that config.json and the CLI use:
// mount options, signal names, capability and rlimit names.
//
// It creates nothing and needs no privileges; the only kernel facts it reads
// are /proc/sys/kernel/cap_last_cap and /proc/self/ns/net. Do not use it to
// apply a spec: that is the job of cgroups and of init's plan (initplan).
package spec
