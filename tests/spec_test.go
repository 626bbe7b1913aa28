package tests

import (
	"bufio"
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Spec edits, applied in order by newCtr and ctr.edit.

func withSh(script string) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Process.Args = []string{"sh", "-c", script} }
}

func withNamespace(typ specs.LinuxNamespaceType) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: typ})
	}
}

func withoutNamespace(typ specs.LinuxNamespaceType) func(*specs.Spec) {
	return func(s *specs.Spec) {
		var keep []specs.LinuxNamespace
		for _, ns := range s.Linux.Namespaces {
			if ns.Type != typ {
				keep = append(keep, ns)
			}
		}
		s.Linux.Namespaces = keep
	}
}

// withUserNS adds a user namespace mapping container 0 to host 100000, with
// uidSize uids and gidSize gids.
func withUserNS(uidSize, gidSize uint32) func(*specs.Spec) {
	return func(s *specs.Spec) {
		withNamespace(specs.UserNamespace)(s)
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: uidSize}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: gidSize}}
	}
}

func withMount(m specs.Mount) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Mounts = append(s.Mounts, m) }
}

// capNames is the kernel's capability numbering (linux/capability.h).
var capNames = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

// capMask is the /proc/PID/status hex mask of capability names
// ("CAP_KILL").
func capMask(names []string) string {
	var m uint64
	for _, n := range names {
		found := false
		for i, c := range capNames {
			if "CAP_"+c == n {
				m |= 1 << i
				found = true
			}
		}
		if !found {
			panic("unknown capability " + n)
		}
	}
	return fmt.Sprintf("%016x", m)
}

// statusFields parses "Key:\tvalue" lines of /proc/PID/status.
func statusFields(text string) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// mountEntry is one line of /proc/PID/mountinfo.
type mountEntry struct {
	point, fstype string
	opts, super   map[string]bool // per-mount and superblock options
}

func parseMountinfo(text string) map[string]mountEntry {
	m := map[string]mountEntry{}
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 6 || len(f) < sep+4 {
			continue
		}
		m[f[4]] = mountEntry{point: f[4], fstype: f[sep+1], opts: set(f[5]), super: set(f[sep+3])}
	}
	return m
}

func set(csv string) map[string]bool {
	s := map[string]bool{}
	for _, o := range strings.Split(csv, ",") {
		s[o] = true
	}
	return s
}
