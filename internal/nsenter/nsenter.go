package nsenter

import (
	"sort"
	"strconv"
	"strings"

	"hako/internal/namespaces"
)

// Env returns the environment entries that make hako-init join the
// given namespaces (type name as in /proc/PID/ns -> path) and report on
// pipeFd (as numbered in the child).
func Env(paths map[string]string, pipeFd int) []string {
	return EnvUnshare(paths, 0, pipeFd)
}

// EnvUnshare is Env plus new namespaces (CLONE_NEW* flags) to unshare after
// joining, so they belong to a joined user namespace.
func EnvUnshare(paths map[string]string, unshareFlags uintptr, pipeFd int) []string {
	types := make([]string, 0, len(paths))
	for t := range paths {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool { return namespaces.JoinRank(types[i]) < namespaces.JoinRank(types[j]) })
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = t + ":" + paths[t]
	}
	env := []string{"_HAKO_NSENTER=" + strings.Join(parts, ","), "_HAKO_NSENTER_PIPE=" + strconv.Itoa(pipeFd)}
	if unshareFlags != 0 {
		env = append(env, "_HAKO_NSENTER_UNSHARE="+strconv.Itoa(int(unshareFlags)))
	}
	return env
}
