package nsenter

import (
	"sort"
	"strings"
)

// joinOrder is the order namespaces are joined in: user first (it grants the
// capabilities to join the rest), mount last.
var joinOrder = map[string]int{"user": 0, "ipc": 1, "uts": 2, "net": 3, "pid": 4, "cgroup": 5, "time": 6, "mnt": 7}

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
	sort.Slice(types, func(i, j int) bool { return joinOrder[types[i]] < joinOrder[types[j]] })
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = t + ":" + paths[t]
	}
	env := []string{"_HAKO_NSENTER=" + strings.Join(parts, ","), "_HAKO_NSENTER_PIPE=" + itoa(pipeFd)}
	if unshareFlags != 0 {
		env = append(env, "_HAKO_NSENTER_UNSHARE="+itoa(int(unshareFlags)))
	}
	return env
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
