package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// insideCase runs `sh -c script` in a container set up by setup and checks
// what it printed.
type insideCase struct {
	name   string
	setup  func(c *ctr)
	flags  []string // extra `hako run` flags
	script string
	check  func(t *testing.T, c *ctr, out string)
}

func runInside(t *testing.T, cases []insideCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t)
			if tc.setup != nil {
				tc.setup(c)
			}
			tc.check(t, c, c.sh(tc.script, tc.flags...))
		})
	}
}

func edits(fs ...func(*specs.Spec)) func(c *ctr) {
	return func(c *ctr) { c.edit(fs...) }
}

// wantOut checks the whole output.
func wantOut(want string) func(t *testing.T, c *ctr, out string) {
	return func(t *testing.T, _ *ctr, out string) {
		t.Helper()
		if out != want {
			t.Errorf("container printed %q, want %q", out, want)
		}
	}
}

func TestProcessAndSystem(t *testing.T) {
	hostName, _ := os.Hostname()
	hostForward, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	runInside(t, []insideCase{
		{
			name:   "hostname",
			setup:  edits(func(s *specs.Spec) { s.Hostname, s.Domainname = "ctr-host", "example.test" }),
			script: "hostname; cat /proc/sys/kernel/domainname",
			check: func(t *testing.T, c *ctr, out string) {
				wantOut("ctr-host\nexample.test\n")(t, c, out)
				if h, _ := os.Hostname(); h != hostName {
					t.Errorf("host hostname changed from %q to %q", hostName, h)
				}
			},
		},
		{
			name:   "user program is pid 1",
			script: "echo $$",
			check:  wantOut("1\n"),
		},
		{
			name:   "ps sees only the container",
			script: "ps -o pid,args; true",
			check: func(t *testing.T, c *ctr, out string) {
				lines := strings.Split(strings.TrimSpace(out), "\n")[1:]
				if len(lines) != 2 || !strings.HasPrefix(strings.TrimSpace(lines[0]), "1 sh -c ps") {
					t.Errorf("ps shows processes other than pid 1 (sh) and ps itself:\n%s", out)
				}
			},
		},
		{
			name:   "rlimit nofile 1024",
			script: "ulimit -n",
			check:  wantOut("1024\n"),
		},
		{
			name: "rlimit soft below hard",
			setup: edits(func(s *specs.Spec) {
				s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 512, Hard: 2048}, {Type: "RLIMIT_NPROC", Soft: 100, Hard: 200}}
			}),
			script: "ulimit -Sn; ulimit -Hn; grep -E '^Max (open files|processes)' /proc/self/limits",
			check: func(t *testing.T, c *ctr, out string) {
				for _, re := range []string{`^512\n2048\n`, `Max processes +100 +200 `, `Max open files +512 +2048 `} {
					if !regexp.MustCompile(re).MatchString(out) {
						t.Errorf("limits do not match %q:\n%s", re, out)
					}
				}
			},
		},
		{
			name: "cwd env user umask",
			setup: edits(func(s *specs.Spec) {
				s.Process.Cwd = "/tmp"
				s.Process.Env = append(s.Process.Env, "HAKO_TEST=a b=c")
				umask := uint32(0o027)
				s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{5, 100}, Umask: &umask}
			}),
			script: `pwd; echo "$HAKO_TEST"; id; umask; grep -E '^(Uid|Gid|Groups):' /proc/self/status`,
			check: wantOut("/tmp\na b=c\nuid=1000 gid=1000 groups=5(tty),100\n0027\n" +
				"Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nGroups:\t5 100 \n"),
		},
		{
			name: "sysctl",
			setup: edits(func(s *specs.Spec) {
				s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789"}
			}),
			script: "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax",
			check: func(t *testing.T, c *ctr, out string) {
				wantOut("1\n123456789\n")(t, c, out)
				if b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); string(b) != string(hostForward) {
					t.Errorf("host net.ipv4.ip_forward changed from %q to %q", hostForward, b)
				}
			},
		},
		{
			name:   "oom_score_adj",
			setup:  edits(func(s *specs.Spec) { adj := 500; s.Process.OOMScoreAdj = &adj }),
			script: "cat /proc/self/oom_score_adj",
			check:  wantOut("500\n"),
		},
		{
			name:   "ip link shows only lo",
			script: "ip link",
			check: func(t *testing.T, c *ctr, out string) {
				links := regexp.MustCompile(`(?m)^\d+: ([^:@]+)`).FindAllStringSubmatch(out, -1)
				if len(links) != 1 || links[0][1] != "lo" {
					t.Errorf("ip link in a new netns shows more than lo:\n%s", out)
				}
			},
		},
	})
}

func TestRootfs(t *testing.T) {
	runInside(t, []insideCase{
		{
			name: "ls / is the rootfs",
			setup: func(c *ctr) {
				os.WriteFile(filepath.Join(c.bundle, "rootfs", "marker"), nil, 0o644)
			},
			script: "ls -1a /",
			check:  checkLsRoot,
		},
		{
			name:   "no-pivot",
			flags:  []string{"--no-pivot"},
			setup:  func(c *ctr) { os.WriteFile(filepath.Join(c.bundle, "rootfs", "marker"), nil, 0o644) },
			script: "ls -1a /",
			check:  checkLsRoot,
		},
		{
			name:   "readonly root",
			script: "touch /x 2>&1 && echo wrote; true",
			check: func(t *testing.T, c *ctr, out string) {
				if !strings.Contains(out, "Read-only file system") {
					t.Errorf("touch / on a readonly root: %q", out)
				}
			},
		},
		{
			name:   "writable root",
			setup:  edits(func(s *specs.Spec) { s.Root.Readonly = false }),
			script: "touch /x && echo wrote",
			check: func(t *testing.T, c *ctr, out string) {
				wantOut("wrote\n")(t, c, out)
				if _, err := os.Stat(filepath.Join(c.bundle, "rootfs", "x")); err != nil {
					t.Errorf("file written in the container is not in the rootfs: %v", err)
				}
			},
		},
		{
			name: "masked paths",
			setup: func(c *ctr) {
				os.WriteFile(filepath.Join(c.bundle, "rootfs", "home", "secret"), []byte("x"), 0o644)
				c.edit(func(s *specs.Spec) { s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/home") })
			},
			script: "echo kcore=$(head -c 16 /proc/kcore 2>/dev/null | wc -c); echo keys=$(cat /proc/keys 2>/dev/null | wc -c); " +
				"echo home=$(ls -A /home | wc -l); touch /home/f 2>/dev/null && echo home-writable; " +
				"echo timer_list=$(cat /proc/timer_list 2>/dev/null | wc -c)",
			check: wantOut("kcore=0\nkeys=0\nhome=0\ntimer_list=0\n"),
		},
		{
			name: "readonly paths",
			script: "echo 1 > /proc/sys/net/ipv4/ip_forward 2>/dev/null && echo wrote-proc-sys; " +
				"echo 1 > /proc/sys/kernel/shmmax 2>/dev/null && echo wrote-shmmax; " +
				"grep -E ' /proc/sys ' /proc/self/mountinfo | cut -d' ' -f6 | cut -d, -f1",
			check: wantOut("ro\n"),
		},
		{
			name: "devices",
			setup: edits(func(s *specs.Spec) {
				mode := os.FileMode(0o640)
				uid, gid := uint32(1000), uint32(5)
				s.Linux.Devices = []specs.LinuxDevice{
					{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &mode, UID: &uid, GID: &gid},
					{Path: "/dev/kmsg2", Type: "c", Major: 1, Minor: 11},
				}
			}),
			script: `stat -c '%n %F %a %u %g %t:%T' /dev/fuse /dev/kmsg2 /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty`,
			check: wantOut("/dev/fuse character special file 640 1000 5 a:e5\n" +
				"/dev/kmsg2 character special file 666 0 0 1:b\n" + // runc's default mode
				"/dev/null character special file 666 0 0 1:3\n" +
				"/dev/zero character special file 666 0 0 1:5\n" +
				"/dev/full character special file 666 0 0 1:7\n" +
				"/dev/random character special file 666 0 0 1:8\n" +
				"/dev/urandom character special file 666 0 0 1:9\n" +
				"/dev/tty character special file 666 0 0 5:0\n"),
		},
		{
			name:   "dev links",
			script: "for l in ptmx fd stdin stdout stderr; do echo $l $(readlink /dev/$l); done",
			check:  wantOut("ptmx pts/ptmx\nfd /proc/self/fd\nstdin /proc/self/fd/0\nstdout /proc/self/fd/1\nstderr /proc/self/fd/2\n"),
		},
	})
}

// checkLsRoot compares `ls -1a /` in the container with the rootfs on the host.
func checkLsRoot(t *testing.T, c *ctr, out string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(c.bundle, "rootfs"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".", ".."}
	for _, e := range ents {
		want = append(want, e.Name())
	}
	got := strings.Fields(out)
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ls / in the container: %v\nrootfs on the host: %v", got, want)
	}
}

func TestMounts(t *testing.T) {
	t.Parallel()
	ro, rw := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(ro, "hello"), []byte("from host\n"), 0o644)
	c := newCtr(t,
		withMount(specs.Mount{Destination: "/mnt/ro", Type: "bind", Source: ro, Options: []string{"rbind", "ro"}}),
		withMount(specs.Mount{Destination: "/mnt/rw", Type: "bind", Source: rw, Options: []string{"bind", "rw"}}),
		withMount(specs.Mount{Destination: "/mnt/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "size=1m", "mode=700"}}))
	out := c.sh("cat /proc/self/mountinfo; echo ---; cat /mnt/ro/hello; echo rw > /mnt/rw/new && echo rw-ok; " +
		"touch /mnt/ro/new 2>/dev/null || echo ro-refused")
	mi, rest, _ := strings.Cut(out, "---\n")
	if rest != "from host\nrw-ok\nro-refused\n" {
		t.Errorf("bind mounts: got %q", rest)
	}
	if b, err := os.ReadFile(filepath.Join(rw, "new")); err != nil || string(b) != "rw\n" {
		t.Errorf("write through the rw bind mount: %q, %v", b, err)
	}
	mounts := parseMountinfo(mi)
	// A "ro" cgroup mount: on a v1 or hybrid host a writable tmpfs holds
	// the read-only hierarchies, as runc makes it; on v2 it is one mount.
	cgroupRO := "/sys/fs/cgroup"
	if mounts[cgroupRO].fstype == "tmpfs" {
		cgroupRO = "/sys/fs/cgroup/memory"
	}
	for _, w := range []struct {
		point, fstype string
		opts, super   []string
	}{
		{"/proc", "proc", nil, nil},
		{"/dev", "tmpfs", []string{"nosuid"}, []string{"mode=755"}},
		{"/dev/pts", "devpts", []string{"nosuid", "noexec"}, []string{"gid=5", "mode=620", "ptmxmode=666"}},
		{"/dev/shm", "tmpfs", []string{"nosuid", "noexec", "nodev"}, []string{"size=65536k"}},
		{"/dev/mqueue", "mqueue", []string{"nosuid", "noexec", "nodev"}, nil},
		{"/sys", "sysfs", []string{"ro", "nosuid", "noexec", "nodev"}, nil},
		{cgroupRO, "", []string{"ro"}, nil},
		{"/mnt/ro", "", []string{"ro"}, nil},
		{"/mnt/rw", "", []string{"rw"}, nil},
		{"/mnt/tmp", "tmpfs", []string{"nosuid", "nodev"}, []string{"size=1024k", "mode=700"}},
	} {
		m, ok := mounts[w.point]
		if !ok {
			t.Errorf("no mount on %s", w.point)
			continue
		}
		if w.fstype != "" && m.fstype != w.fstype {
			t.Errorf("%s: type %s, want %s", w.point, m.fstype, w.fstype)
		}
		for _, o := range w.opts {
			if !m.opts[o] {
				t.Errorf("%s: mount options %v lack %s", w.point, keys(m.opts), o)
			}
		}
		for _, o := range w.super {
			if !m.super[o] {
				t.Errorf("%s: superblock options %v lack %s", w.point, keys(m.super), o)
			}
		}
	}
	for p, m := range mounts {
		if strings.HasPrefix(p, "/sys/fs/cgroup/") && !m.opts["ro"] {
			t.Errorf("cgroup mount %s is not read-only: %v", p, keys(m.opts))
		}
	}
}

func keys(m map[string]bool) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

func TestNamespaces(t *testing.T) {
	base := []string{"pid", "net", "mnt", "ipc", "uts", "cgroup"}
	for _, tc := range []struct {
		name  string
		edits []func(*specs.Spec)
		ns    []string
	}{
		{"default", nil, base},
		{"user", []func(*specs.Spec){withUserNS(65536, 65536)}, append(base, "user")},
		{"time", []func(*specs.Spec){withNamespace(specs.TimeNamespace)}, append(base, "time")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, tc.edits...)
			out := c.sh("for n in " + strings.Join(tc.ns, " ") + "; do echo $n $(readlink /proc/self/ns/$n); done")
			inside := map[string]string{}
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				n, link, _ := strings.Cut(l, " ")
				inside[n] = link
			}
			for _, n := range tc.ns {
				host, err := os.Readlink("/proc/self/ns/" + n)
				if err != nil {
					t.Fatal(err)
				}
				if inside[n] == "" || inside[n] == host {
					t.Errorf("%s namespace inside %q, host %q: want a new one", n, inside[n], host)
				}
			}
		})
	}
}

func TestCapabilities(t *testing.T) {
	dflt := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	five := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL", "CAP_NET_RAW", "CAP_SYS_ADMIN"}
	// Sets are chosen consistent with execve(2)'s rules (capabilities(7)),
	// so each mask after exec equals the configured set: root gets
	// permitted = effective = bounding | inheritable; a non-root user gets
	// permitted = effective = ambient.
	for _, tc := range []struct {
		name string
		uid  uint32
		caps specs.LinuxCapabilities
	}{
		{"default", 0, specs.LinuxCapabilities{Bounding: dflt, Effective: dflt, Permitted: dflt}},
		{"root custom with ambient", 0, specs.LinuxCapabilities{Bounding: five, Effective: five, Permitted: five,
			Inheritable: []string{"CAP_KILL", "CAP_NET_RAW"}, Ambient: []string{"CAP_NET_RAW"}}},
		{"non-root ambient", 1000, specs.LinuxCapabilities{
			Bounding:  []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
			Effective: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"}, Permitted: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
			Inheritable: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"}, Ambient: []string{"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"}}},
		{"none", 0, specs.LinuxCapabilities{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, func(s *specs.Spec) {
				caps := tc.caps
				s.Process.Capabilities = &caps
				s.Process.User = specs.User{UID: tc.uid, GID: tc.uid}
			})
			got := statusFields(c.sh("grep ^Cap /proc/self/status"))
			for field, names := range map[string][]string{"CapBnd": tc.caps.Bounding, "CapEff": tc.caps.Effective,
				"CapPrm": tc.caps.Permitted, "CapInh": tc.caps.Inheritable, "CapAmb": tc.caps.Ambient} {
				if want := capMask(names); got[field] != want {
					t.Errorf("%s = %s, want %s %v", field, got[field], want, names)
				}
			}
		})
	}
}

// TestUserNamespaceIDs checks a mapped root: the host sees the created
// init as uid/gid 100000, the container sees root (never nobody).
func TestUserNamespaceIDs(t *testing.T) {
	t.Parallel()
	c := newCtr(t, withUserNS(65536, 65536), withSh("id; cat /proc/self/uid_map /proc/self/gid_map"))
	p := c.start(nil, c.withID("create", nil)...)
	if r := p.wait(); r.code != 0 {
		t.Fatalf("create: %s", r)
	}
	st := c.waitStatus(specs.StateCreated)
	status, err := os.ReadFile("/proc/" + strconv.Itoa(st.Pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	f := statusFields(string(status))
	for _, k := range []string{"Uid", "Gid"} {
		if got := strings.Fields(f[k]); len(got) != 4 || got[0] != "100000" || got[1] != "100000" {
			t.Errorf("host sees init %s %q, want 100000", k, f[k])
		}
	}
	c.ok("start", c.id)
	c.waitStatus(specs.StateStopped)
	out := readAll(p.stdout)
	want := regexp.MustCompile(`^uid=0\(root\) gid=0\(root\)( groups=0\(root\))?\n +0 +100000 +65536\n +0 +100000 +65536\n$`)
	if !want.MatchString(out) || strings.Contains(out, "nobody") || strings.Contains(out, "nogroup") {
		t.Errorf("inside a mapped user namespace: %q", out)
	}
}
