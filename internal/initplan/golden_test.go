package initplan

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/spec"
)

// The golden tests compile known configs for recorded hosts and compare
// the whole plan, op by op, with testdata/golden/*.plan: a change to what
// init does for runc's default config, a rootless one or what Docker,
// podman and containerd send shows up as a diff of that listing, to be
// read and accepted (go test ./internal/initplan -update) in the same
// commit. Compile reads nothing from the machine (see Host), so these run
// anywhere.
var update = flag.Bool("update", false, "rewrite testdata/golden/*.plan from the compiler")

// goldenCase is one config compiled for one host.
type goldenCase struct {
	name string
	// config: testdata/configs/<config>.json (a config.json), or a
	// function building the spec.
	config string
	spec   func() *specs.Spec
	host   string // testdata/hosts/<host>.json
	edit   func(*Config)
	exec   bool // CompileExec
}

var goldenCases = []goldenCase{
	// `hako spec` (runc 1.1's template): terminal, so a console socket.
	{name: "runc-default", spec: spec.Default, host: "v1-hybrid"},
	{name: "runc-default-v2", spec: spec.Default, host: "v2",
		edit: func(c *Config) { c.JoinByPid, c.JoinWhenPrimed = false, false }},
	{name: "runc-default-run", spec: spec.Default, host: "v1-hybrid",
		edit: func(c *Config) { c.FifoFd, c.Spec.Process.Terminal, c.ConsoleFd = -1, false, -1 }},
	{name: "runc-default-exec", spec: spec.Default, host: "v1-hybrid", exec: true,
		edit: func(c *Config) {
			c.FifoFd, c.Spec.Process.Args = -1, []string{"/bin/sh", "-c", "echo hi"}
			c.RlimitsBeforePlan, c.JoinByPid, c.JoinWhenPrimed = true, true, true
		}},
	// `hako spec --rootless`, run by uid 1000.
	{name: "runc-rootless", spec: rootlessSpec, host: "v1-hybrid",
		edit: func(c *Config) {
			c.UserNS, c.NetNS, c.Rootless, c.JoinByPid, c.JoinWhenPrimed = true, false, true, false, false
		}},
}

// The hard cases: what only the Go init did until the plan learned it and
// the Go init was deleted (docs/design.md, "One init").
func init() {
	hook := []specs.Hook{{Path: "/usr/bin/hook", Args: []string{"hook", "arg"}, Timeout: ptrInt(5)}}
	dropNS := func(s *specs.Spec, t specs.LinuxNamespaceType) {
		var keep []specs.LinuxNamespace
		for _, ns := range s.Linux.Namespaces {
			if ns.Type != t {
				keep = append(keep, ns)
			}
		}
		s.Linux.Namespaces = keep
	}
	withSpec := func(edit func(*specs.Spec)) func() *specs.Spec {
		return func() *specs.Spec {
			s := spec.Default()
			s.Process.Terminal = false
			edit(s)
			return s
		}
	}
	goldenCases = append(goldenCases,
		goldenCase{name: "hard-createContainer-hook", host: "v1-hybrid",
			spec: withSpec(func(s *specs.Spec) { s.Hooks = &specs.Hooks{CreateContainer: hook, StartContainer: hook} })},
		goldenCase{name: "hard-createRuntime-hook", host: "v1-hybrid",
			spec: withSpec(func(s *specs.Spec) { s.Hooks = &specs.Hooks{CreateRuntime: hook} })},
		goldenCase{name: "hard-seccomp-notify", host: "v1-hybrid",
			spec: withSpec(func(s *specs.Spec) {
				s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/agent.sock",
					Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdirat"}, Action: specs.ActNotify}}}
			}),
			edit: func(c *Config) { c.ListenerFd = 6 }},
		// The runtime made the idmapped mount before clone (fd 6 in init).
		goldenCase{name: "hard-idmap-mount", host: "v1-hybrid",
			spec: withSpec(func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: "/srv/data", Options: []string{"rbind", "idmap", "ro"},
					UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
					GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}})
			}),
			edit: func(c *Config) { c.MountFds = map[int]int{len(c.Spec.Mounts) - 1: 6} }},
		goldenCase{name: "hard-tmpcopyup", host: "v1-hybrid",
			spec: withSpec(func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/etc", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "ro", "mode=755"}})
			})},
		goldenCase{name: "hard-sysfs-userns-no-netns", host: "v1-hybrid",
			spec: withSpec(func(s *specs.Spec) {
				dropNS(s, specs.NetworkNamespace)
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
				s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
				s.Linux.GIDMappings = s.Linux.UIDMappings
			})},
		// Without a cgroup namespace the plan binds the container's own
		// cgroup in each hierarchy; where the container has none (no
		// cgroup at all, rootless), the runtime's own, which init stays
		// in (the runtime reads it from /proc/self/cgroup:
		// CgroupBindSources).
		goldenCase{name: "hard-cgroup-no-cgroupns", host: "v1-hybrid",
			spec: withSpec(func(s *specs.Spec) { dropNS(s, specs.CgroupNamespace) })},
		goldenCase{name: "hard-cgroup-no-cgroupns-no-cgroup", host: "v1-hybrid",
			spec: withSpec(func(s *specs.Spec) { dropNS(s, specs.CgroupNamespace) }),
			edit: func(c *Config) {
				for k := range c.CgroupSources {
					c.CgroupSources[k] = filepath.Join(k, "user.slice")
				}
				c.JoinByPid, c.JoinWhenPrimed = false, false
			}},
		goldenCase{name: "hard-userns-by-path", host: "v1-hybrid",
			spec: withSpec(func(s *specs.Spec) {
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/4242/ns/user"})
			})},
		goldenCase{name: "hard-no-mountns", host: "v1-hybrid",
			spec: withSpec(func(s *specs.Spec) { dropNS(s, specs.MountNamespace) })},
	)
}

func ptrInt(v int) *int { return &v }

func rootlessSpec() *specs.Spec {
	s := spec.Default()
	spec.ToRootless(s, 1000, 1000)
	return s
}

func TestGoldenPlans(t *testing.T) {
	for _, gc := range append(goldenCases, recordedCases(t)...) {
		t.Run(gc.name, func(t *testing.T) {
			c, h := gc.load(t)
			var p *Plan
			var err error
			if gc.exec {
				p, err = CompileExec(c, h)
			} else {
				p, err = Compile(c, h)
			}
			if err != nil {
				t.Fatal(err)
			}
			got := p.listing()
			path := filepath.Join("testdata", "golden", gc.name+".plan")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./internal/initplan -run TestGoldenPlans -update writes it)", err)
			}
			if got != string(want) {
				t.Errorf("the plan for %s differs from %s (-update accepts it):\n%s", gc.name, path, lineDiff(string(want), got))
			}
		})
	}
}

// recordedCases are the configs in testdata/configs, as engines sent them
// to hako (recorded by a wrapper that copied each config.json): one case
// each, with the facts the runtime derives from the spec.
func recordedCases(t *testing.T) []goldenCase {
	files, err := filepath.Glob("testdata/configs/*.json")
	if err != nil {
		t.Fatal(err)
	}
	var out []goldenCase
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		gc := goldenCase{name: name, config: name, host: "v1-hybrid"}
		if strings.Contains(name, "rootless") {
			// Rootless podman runs hako inside its user namespace, with
			// no cgroup of its own on a v1 host.
			gc.edit = func(c *Config) { c.UserNS, c.Rootless, c.JoinByPid, c.JoinWhenPrimed = true, true, false, false }
		}
		out = append(out, gc)
	}
	return out
}

// load builds the case's Config and Host. Paths are fixed (the bundle is
// /bundle), so the listing does not depend on the machine.
func (gc goldenCase) load(t *testing.T) (Config, Host) {
	t.Helper()
	var s *specs.Spec
	if gc.spec != nil {
		s = gc.spec()
	} else {
		b, err := os.ReadFile(filepath.Join("testdata", "configs", gc.config+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if s, err = spec.Decode(bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	if s.Process != nil && len(s.Process.Args) == 0 {
		s.Process.Args = []string{"sh"}
	}
	rootfs := s.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join("/bundle", rootfs)
	}
	nss := s.Linux.Namespaces
	has := func(t specs.LinuxNamespaceType) bool {
		for _, ns := range nss {
			if ns.Type == t {
				return true
			}
		}
		return false
	}
	c := Config{Spec: s, ID: "golden", Bundle: "/bundle", Rootfs: rootfs, FifoFd: 4, ConsoleFd: -1,
		UserNS: has(specs.UserNamespace), NetNS: has(specs.NetworkNamespace), CgroupNS: has(specs.CgroupNamespace),
		JoinByPid: true, JoinWhenPrimed: true, RlimitsBeforePlan: RlimitsBeforePlan(s.Process.Rlimits), TimerSlack: 50000}
	if s.Process.Terminal {
		c.ConsoleFd = 5
	}
	if !c.CgroupNS {
		// The container's own cgroup in each hierarchy, for the binds.
		c.CgroupSources = map[string]string{}
	}
	h := loadHost(t, gc.host)
	if c.CgroupSources != nil {
		for _, m := range h.Cgroups {
			c.CgroupSources[m.Mountpoint] = filepath.Join(m.Mountpoint, "golden")
		}
	}
	h.Sources = map[string]Source{}
	for i := range s.Mounts {
		if m := &s.Mounts[i]; m.Type == "bind" || strings.Contains(strings.Join(m.Options, ","), "bind") {
			src := bindSource(c, m)
			h.Sources[src] = Source{Dir: !fileLike(src)}
		}
	}
	if gc.edit != nil {
		gc.edit(&c)
	}
	if c.UserNS {
		h.Sources["/sys"] = Source{Dir: true} // sysfsOrBind's fallback
	}
	return c, h
}

// fileLike: the bind sources engines give that are files (the rest of a
// recorded config's sources are taken for directories).
func fileLike(p string) bool {
	switch filepath.Base(p) {
	case "hosts", "hostname", "resolv.conf", ".containerenv", "null", "zero", "full", "random", "urandom", "tty":
		return true
	}
	return strings.HasSuffix(p, ".json")
}

// loadHost reads testdata/hosts/<name>.json: the host's cgroup hierarchies
// as ContainerHierarchies returned them, the last capability and the
// bounding set.
func loadHost(t *testing.T, name string) Host {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "hosts", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		LastCap  uint64
		Bounding uint64
		SELinux  bool
		Cgroups  []*mountinfo.Info
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return Host{LastCap: rec.LastCap, Bounding: rec.Bounding, SELinux: rec.SELinux, Cgroups: rec.Cgroups}
}

var recordHost = flag.String("record-host", "", "write this machine's probed Host to testdata/hosts/NAME.json")

// TestProbeHost: this machine's Host is probed whole; with -record-host
// it is written as a recorded host for the golden tests.
func TestProbeHost(t *testing.T) {
	c := defaultConfig(t)
	h, err := ProbeHost(c)
	if err != nil {
		t.Fatal(err)
	}
	if h.LastCap < unix.CAP_AUDIT_READ || h.Bounding == 0 || h.CgroupsErr != nil || len(h.Cgroups) == 0 {
		t.Errorf("probed host: last cap %d, bounding %#x, cgroups %d (%v)", h.LastCap, h.Bounding, len(h.Cgroups), h.CgroupsErr)
	}
	if *recordHost == "" {
		return
	}
	// The whole bounding set (ProbeHost asks only for the spec's).
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			if h.Bounding, err = strconv.ParseUint(strings.TrimSpace(v), 16, 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	b, err := json.MarshalIndent(struct {
		LastCap  uint64
		Bounding uint64
		SELinux  bool
		Cgroups  []*mountinfo.Info
	}{h.LastCap, h.Bounding, h.SELinux, h.Cgroups}, "", "\t")
	if err == nil {
		err = os.WriteFile(filepath.Join("testdata", "hosts", *recordHost+".json"), append(b, '\n'), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// listing renders the plan one op a line: index, step (name and operands,
// as --trace shows them), the operation, its output register and its
// arguments (trailing zero immediates left out). Strings are quoted; binary blobs (seccomp programs, group
// lists, mount_attr) are shown by length and hash.
func (p *Plan) listing() string {
	var b strings.Builder
	for i, o := range p.ops {
		stepText := "-"
		if o.step >= 0 {
			stepText = p.strAt(uint64(p.steps[o.step].name)) + " | " + p.strAt(uint64(p.steps[o.step].operands))
		}
		name := opNames[o.code]
		if o.code == opSyscall {
			name = "sys " + sysName(o.nr)
		}
		fmt.Fprintf(&b, "%03d %s\n    %s%s", i, stepText, name, flagText(o.flags))
		if o.out >= 0 {
			fmt.Fprintf(&b, " -> r%d", o.out)
		}
		n := len(o.args)
		for n > 0 && o.args[n-1] == (arg{}) {
			n--
		}
		for j := 0; j < n; j++ {
			b.WriteString(" " + p.argText(o, j))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (p *Plan) argText(o op, j int) string {
	a := o.args[j]
	switch a.kind {
	case kReg:
		return fmt.Sprintf("r%d", a.v)
	case kFdName:
		return fmt.Sprintf("fd(r%d)", a.v)
	case kLate:
		return fmt.Sprintf("late%q", p.late[a.v](listingPid))
	case kStr:
		if o.code == opHook && j == 0 {
			// the path, the arguments, the environment
			return fmt.Sprintf("%q", p.str[a.v:a.v+uint64(len(skipStrings(p.str[a.v:], 1+o.args[1].v+o.args[2].v)))-1])
		}
		if n, ok := blobLen(o, j); ok {
			sum := sha256.Sum256(p.str[a.v : a.v+n])
			return fmt.Sprintf("blob[%d]:%x", n, sum[:6])
		}
		return fmt.Sprintf("%q", p.strAt(a.v))
	}
	if a.v > 0xff {
		return fmt.Sprintf("%#x", a.v)
	}
	return fmt.Sprint(a.v)
}

// listingPid is the pid a late string (kLate) is shown for; Bytes fills
// in its length, shown as 0.
const listingPid = 4242

// skipStrings returns the first n NUL-terminated strings of b.
func skipStrings(b []byte, n uint64) []byte {
	end := 0
	for i := uint64(0); i < n; i++ {
		end += bytes.IndexByte(b[end:], 0) + 1
	}
	return b[:end]
}

// blobLen is the length of a binary argument, known from its op.
func blobLen(o op, j int) (uint64, bool) {
	switch {
	case o.code == opSeccomp && j == 0:
		return 8 * o.args[1].v, true
	case o.code == opSetuser && j == 2:
		return 4 * o.args[3].v, true
	case o.code == opSyscall && o.nr == unix.SYS_MOUNT_SETATTR && j == 3:
		return o.args[4].v, true
	}
	return 0, false
}

func flagText(f uint16) string {
	var l []string
	for _, x := range []struct {
		f    uint16
		name string
	}{{fTrace, "trace"}, {fOkEexist, "ok-eexist"}, {fOkEnoent, "ok-enoent"}, {fLate, "late"}, {fOkEperm, "ok-eperm"}} {
		if f&x.f != 0 {
			l = append(l, x.name)
		}
	}
	if len(l) == 0 {
		return ""
	}
	return "[" + strings.Join(l, ",") + "]"
}

var opNames = map[uint16]string{opSyscall: "syscall", opLookup: "lookup", opOpenDir: "open-dir", opOpenFile: "open-file",
	opCheckReal: "check-real", opRemount: "remount", opOpenNull: "open-null", opMask: "mask", opReadonly: "readonly",
	opSymlink: "symlink", opMknod: "mknod", opWriteFile: "write-file", opSend: "send", opWait: "wait", opOpenpty: "openpty",
	opSendFd: "send-fd", opSkipUnless: "skip-unless", opCopyTree: "copy-tree", opUseConsole: "use-console", opPivot: "pivot", opMoveChroot: "move-chroot",
	opChdirCheck: "chdir-check", opBounding: "bounding", opCapset: "capset", opAmbient: "ambient", opSetuser: "setuser",
	opSeccomp: "seccomp", opLookpath: "lookpath", opFifoWait: "fifo-wait", opCloexecFrom: "cloexec-from", opExec: "exec",
	opOpenAttr: "open-attr", opHook: "hook"}

func sysName(nr int32) string {
	switch nr {
	case unix.SYS_CHDIR:
		return "chdir"
	case unix.SYS_CHROOT:
		return "chroot"
	case unix.SYS_MOVE_MOUNT:
		return "move_mount"
	case unix.SYS_CLOSE:
		return "close"
	case unix.SYS_FCHDIR:
		return "fchdir"
	case unix.SYS_IOCTL:
		return "ioctl"
	case unix.SYS_MOUNT:
		return "mount"
	case unix.SYS_MOUNT_SETATTR:
		return "mount_setattr"
	case unix.SYS_OPENAT:
		return "openat"
	case unix.SYS_PRCTL:
		return "prctl"
	case unix.SYS_SETDOMAINNAME:
		return "setdomainname"
	case unix.SYS_SETHOSTNAME:
		return "sethostname"
	case unix.SYS_SETXATTR:
		return "setxattr"
	case unix.SYS_SOCKET:
		return "socket"
	case unix.SYS_UMASK:
		return "umask"
	case unix.SYS_UNSHARE:
		return "unshare"
	case unix.SYS_WRITE:
		return "write"
	}
	return fmt.Sprintf("nr%d", nr)
}

// lineDiff shows the first lines where want and got part, with context.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b bytes.Buffer
	from := max(0, i-3)
	fmt.Fprintf(&b, "first difference at line %d\n", i+1)
	for k := from; k < min(len(w), i+8); k++ {
		fmt.Fprintf(&b, "-%s\n", w[k])
	}
	for k := from; k < min(len(g), i+8); k++ {
		fmt.Fprintf(&b, "+%s\n", g[k])
	}
	return b.String()
}
