package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// idMappings: a new user namespace needs both maps (hako writes them before
// the container runs), and maps without a user namespace mean nothing.
// runc's configs/validate does the same.
func (v *validator) idMappings() {
	var uids, gids []specs.LinuxIDMapping
	if v.s.Linux != nil {
		uids, gids = v.s.Linux.UIDMappings, v.s.Linux.GIDMappings
	}
	if !v.has(specs.UserNamespace) {
		if len(uids) > 0 || len(gids) > 0 {
			v.fail("linux.uidMappings/gidMappings", "set, but linux.namespaces has no user namespace")
		}
		return
	}
	if !v.newUserNS() {
		return
	}
	v.idMap("linux.uidMappings", uids)
	v.idMap("linux.gidMappings", gids)
	v.processIDs(uids, gids)
}

func (v *validator) idMap(field string, m []specs.LinuxIDMapping) {
	if len(m) == 0 {
		v.fail(field, "empty, but a new user namespace needs one")
	}
	for i, e := range m {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case e.Size == 0:
			v.fail(f, "size 0")
		case uint64(e.ContainerID)+uint64(e.Size) > 1<<32, uint64(e.HostID)+uint64(e.Size) > 1<<32:
			v.fail(f, "range %s overflows 32-bit ids", fmtMaps([]specs.LinuxIDMapping{e}))
		}
	}
}

// processIDs: setuid/setgid to an unmapped id fails with EINVAL inside the
// container, where the error is far from the cause.
func (v *validator) processIDs(uids, gids []specs.LinuxIDMapping) {
	p := v.s.Process
	if p == nil || len(uids) == 0 || len(gids) == 0 {
		return
	}
	if !mapped(uids, p.User.UID) {
		v.fail("process.user.uid", "%d is not mapped in the container's user namespace (linux.uidMappings: %s)", p.User.UID, fmtMaps(uids))
	}
	if !mapped(gids, p.User.GID) {
		v.fail("process.user.gid", "%d is not mapped in the container's user namespace (linux.gidMappings: %s)", p.User.GID, fmtMaps(gids))
	}
	for i, g := range p.User.AdditionalGids {
		if !mapped(gids, g) {
			v.fail(fmt.Sprintf("process.user.additionalGids[%d]", i), "%d is not mapped in the container's user namespace (linux.gidMappings: %s)", g, fmtMaps(gids))
		}
	}
}

func mapped(m []specs.LinuxIDMapping, id uint32) bool {
	for _, e := range m {
		if id >= e.ContainerID && uint64(id) < uint64(e.ContainerID)+uint64(e.Size) {
			return true
		}
	}
	return false
}

// fmtMaps renders mappings in /proc/PID/uid_map order: container host size.
func fmtMaps(m []specs.LinuxIDMapping) string {
	parts := make([]string, len(m))
	for i, e := range m {
		parts[i] = fmt.Sprintf("%d %d %d", e.ContainerID, e.HostID, e.Size)
	}
	return strings.Join(parts, ", ")
}

// mounts accepts relative destinations (Load makes them absolute): runc has
// always read them as relative to "/", and old configs rely on it.
func (v *validator) mounts() {
	for i, m := range v.s.Mounts {
		field := fmt.Sprintf("mounts[%d] (%s)", i, m.Destination)
		if m.Destination == "" {
			v.fail(fmt.Sprintf("mounts[%d]", i), "destination empty")
			continue
		}
		opts := ParseMountOptions(m.Options)
		bind := m.Type == "bind" || opts.Flags&unix.MS_BIND != 0
		if bind && m.Source == "" {
			v.fail(field, "bind mount needs a source")
		}
		if !bind && v.newUserNS() && v.s.Linux != nil {
			v.mountIDs(field, m.Type, opts.Data)
		}
	}
}

// mountIDs checks uid=/gid= options of a filesystem mounted inside a new
// user namespace: the kernel rejects ids that namespace does not map, and
// the mount fails late, with a bare EINVAL.
func (v *validator) mountIDs(field, typ string, data []string) {
	for _, o := range data {
		kind, val, ok := strings.Cut(o, "=")
		if !ok || (kind != "uid" && kind != "gid") {
			continue
		}
		m, mf := v.s.Linux.UIDMappings, "linux.uidMappings"
		if kind == "gid" {
			m, mf = v.s.Linux.GIDMappings, "linux.gidMappings"
		}
		id, err := strconv.ParseUint(val, 10, 32)
		switch {
		case err != nil:
			v.fail(field, "%s option %s: not a number", typ, o)
		case !mapped(m, uint32(id)):
			v.fail(field, "%s option %s: %s %d is not mapped in the container's user namespace (%s: %s); map %s %d or drop the option",
				typ, o, kind, id, mf, fmtMaps(m), kind, id)
		}
	}
}

// ipcSysctls are the kernel.* sysctls an IPC namespace owns (runc's list).
var ipcSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true,
	"kernel.sem": true, "kernel.shmall": true, "kernel.shmmax": true,
	"kernel.shmmni": true, "kernel.shm_rmid_forced": true,
}

// sysctl allows only keys that belong to a namespace the container has,
// as runc's configs/validate does: any other write changes the host.
func (v *validator) sysctl() {
	if v.s.Linux == nil {
		return
	}
	for _, k := range sortedKeys(v.s.Linux.Sysctl) {
		if msg := v.sysctlProblem(k); msg != "" {
			v.fail(fmt.Sprintf("linux.sysctl[%q]", k), "%s", msg)
		}
	}
}

func (v *validator) sysctlProblem(key string) string {
	switch {
	case ipcSysctls[key] || strings.HasPrefix(key, "fs.mqueue."):
		if !v.has(specs.IPCNamespace) {
			return "needs an ipc namespace; without one it would change the host"
		}
	case strings.HasPrefix(key, "net."):
		return v.netSysctlProblem()
	case key == "kernel.domainname" || key == "kernel.hostname":
		if !v.has(specs.UTSNamespace) {
			return "needs a uts namespace; without one it would change the host"
		}
		if key == "kernel.hostname" {
			return `conflicts with the "hostname" field; set that instead`
		}
	default:
		return "not in a namespace the container has its own of; it would change the host"
	}
	return ""
}

func (v *validator) netSysctlProblem() string {
	ns, ok := v.ns(specs.NetworkNamespace)
	if !ok {
		return "needs a network namespace; without one it would change the host"
	}
	if ns.Path == "" {
		return ""
	}
	host, err := sameFile(ns.Path, "/proc/self/ns/net")
	switch {
	case err != nil:
		return fmt.Sprintf("network namespace path %q: %v", ns.Path, err)
	case host:
		return fmt.Sprintf("network namespace path %q is the host's", ns.Path)
	}
	return ""
}

// sameFile compares device and inode, which is how namespace files are
// told apart.
func sameFile(a, b string) (bool, error) {
	var sa, sb unix.Stat_t
	if err := unix.Stat(a, &sa); err != nil {
		return false, err
	}
	if err := unix.Stat(b, &sb); err != nil {
		return false, err
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino, nil
}

// cgroupsPath is either a path (relative to the cgroup root, or to the
// runtime's parent cgroup when relative) or systemd's "slice:prefix:name".
// ".." would climb out of the cgroup tree hako manages.
func (v *validator) cgroupsPath() {
	if v.s.Linux == nil || v.s.Linux.CgroupsPath == "" {
		return
	}
	p := v.s.Linux.CgroupsPath
	field := fmt.Sprintf("linux.cgroupsPath %q", p)
	switch {
	case strings.ContainsRune(p, 0):
		v.fail(field, "contains a NUL byte")
	case slices.Contains(strings.Split(p, "/"), ".."):
		v.fail(field, `contains ".."`)
	case strings.Contains(p, ":") && strings.Count(p, ":") != 2:
		v.fail(field, `systemd form must be "slice:prefix:name"`)
	case strings.Contains(p, ":") && strings.Contains(p, "/"):
		v.fail(field, `systemd form "slice:prefix:name" cannot contain "/"`)
	}
}

// timeOffsets can be written only into a time namespace nobody has entered
// yet (time_namespaces(7)), so they need a new one, not a joined one.
func (v *validator) timeOffsets() {
	if v.s.Linux == nil || len(v.s.Linux.TimeOffsets) == 0 {
		return
	}
	ns, ok := v.ns(specs.TimeNamespace)
	switch {
	case !ok:
		v.fail("linux.timeOffsets", "needs a time namespace (add {\"type\": \"time\"} to linux.namespaces)")
	case ns.Path != "":
		v.fail("linux.timeOffsets", "cannot set offsets of the joined time namespace %q", ns.Path)
	}
	for _, clock := range sortedKeys(v.s.Linux.TimeOffsets) {
		if clock != "monotonic" && clock != "boottime" {
			v.fail(fmt.Sprintf("linux.timeOffsets[%q]", clock), `unknown clock (want "monotonic" or "boottime")`)
		}
		if n := v.s.Linux.TimeOffsets[clock].Nanosecs; n >= 1e9 {
			v.fail(fmt.Sprintf("linux.timeOffsets[%q].nanosecs", clock), "%d is not below 1e9", n)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
