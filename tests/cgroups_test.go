package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Each test here starts a container with limits in config.json, reads the
// values back from the host's cgroup files (found from init's
// /proc/PID/cgroup, so the test trusts nothing hako says about paths), and
// checks the effect from inside the container.

// cgDirs maps each controller of a process ("" for its cgroup2 group) to
// its directory on the host.
type cgDirs map[string]string

// cgroupDirs reads /proc/PID/cgroup and places each line under the mount of
// its hierarchy.
func cgroupDirs(t *testing.T, pid int) cgDirs {
	t.Helper()
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatalf("cgroups of init %d: %v", pid, err)
	}
	mounts := map[string]string{}
	for _, m := range parseMountinfo(string(mi)) {
		switch m.fstype {
		case "cgroup2":
			mounts[""] = m.point
		case "cgroup":
			for o := range m.super {
				mounts[o] = m.point
			}
		}
	}
	dirs := cgDirs{}
	for _, l := range strings.Split(strings.TrimSpace(string(cg)), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, ctrl := range strings.Split(parts[1], ",") {
			if mt, ok := mounts[ctrl]; ok {
				dirs[ctrl] = filepath.Join(mt, parts[2])
			}
		}
	}
	return dirs
}

// dir is where ctrl's files are: its v1 hierarchy, else the cgroup2 group.
func (d cgDirs) dir(ctrl string) string {
	if p, ok := d[ctrl]; ok {
		return p
	}
	return d[""]
}

func (d cgDirs) read(t *testing.T, ctrl, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.dir(ctrl), file))
	if err != nil {
		t.Fatalf("read back %s: %v", file, err)
	}
	return strings.TrimSpace(string(b))
}

// cgLimit is one value config.json asked for, as the kernel shows it in the
// v1 file and in the v2 file ("" where that hierarchy has no such file).
type cgLimit struct{ ctrl, v1, want1, v2, want2 string }

func (d cgDirs) check(t *testing.T, ls ...cgLimit) {
	t.Helper()
	for _, l := range ls {
		file, want := l.v1, l.want1
		if _, v1 := d[l.ctrl]; !v1 {
			file, want = l.v2, l.want2
		}
		if file == "" {
			continue
		}
		if got := d.read(t, l.ctrl, file); got != want {
			t.Errorf("%s/%s = %q, want %q", d.dir(l.ctrl), file, got, want)
		}
	}
}

// liveRun starts script in c as a foreground `hako run` with flags, waits
// until it printed "ready", and returns the run, the container's cgroup
// directories and init's pid. The default cgroupsPath must put the cgroup
// at /hako/<id>.
func liveRun(t *testing.T, c *ctr, script string, flags ...string) (*proc, cgDirs, int) {
	t.Helper()
	c.edit(withSh(script))
	p := c.start(nil, c.withID("run", flags)...)
	waitOutput(t, p, "ready")
	st, _ := c.state()
	dirs := cgroupDirs(t, st.Pid)
	for ctrl, d := range dirs {
		if ctrl != "name=systemd" && !strings.HasSuffix(d, "/hako/"+c.id) {
			t.Errorf("%s cgroup of init is %s, want the default cgroupsPath /hako/%s", ctrl, d, c.id)
		}
	}
	return p, dirs, st.Pid
}

// killRun SIGKILLs the container and waits for its foreground run.
func killRun(t *testing.T, c *ctr, p *proc) result {
	t.Helper()
	c.ok("kill", c.id, "KILL")
	return p.wait()
}

// hakoEvent is the part of runc's events JSON the tests look at.
type hakoEvent struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data struct {
		CPU struct {
			Usage struct {
				Total uint64 `json:"total"`
			} `json:"usage"`
			Throttling struct {
				Periods          uint64 `json:"periods"`
				ThrottledPeriods uint64 `json:"throttledPeriods"`
			} `json:"throttling"`
		} `json:"cpu"`
		Memory struct {
			Usage struct {
				Limit   uint64 `json:"limit"`
				Failcnt uint64 `json:"failcnt"`
			} `json:"usage"`
		} `json:"memory"`
		Pids struct {
			Current uint64 `json:"current"`
			Limit   uint64 `json:"limit"`
		} `json:"pids"`
	} `json:"data"`
}

// stats is `hako events --stats ID`.
func (c *ctr) stats() hakoEvent {
	c.t.Helper()
	r := c.ok("events", "--stats", c.id)
	var e hakoEvent
	if err := json.Unmarshal([]byte(r.out), &e); err != nil || e.Type != "stats" || e.ID != c.id {
		c.t.Fatalf("events --stats: %v: %s", err, r)
	}
	return e
}

func withResources(f func(r *specs.LinuxResources)) func(*specs.Spec) {
	return func(s *specs.Spec) {
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		f(s.Linux.Resources)
	}
}

func withMemory(limit int64) func(*specs.Spec) {
	return withResources(func(r *specs.LinuxResources) { r.Memory = &specs.LinuxMemory{Limit: &limit} })
}

// writable makes the rootfs writable (the default config has it read-only).
func writable(s *specs.Spec) { s.Root.Readonly = false }

func withCap(name string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		c := s.Process.Capabilities
		c.Bounding, c.Effective, c.Permitted = append(c.Bounding, name), append(c.Effective, name), append(c.Permitted, name)
	}
}

// hog fills the shell's memory with 64 MB, four times a 16 MiB limit.
const hog = `x=$(head -c 64000000 /dev/zero | tr "\0" a)`

func TestCgroupLimits(t *testing.T) {
	cpu := "0"
	if runtime.NumCPU() > 1 {
		cpu = "1" // not the first CPU, so a cpuset that did nothing would show
	}
	for _, tc := range []struct {
		name   string
		edit   func(*specs.Spec)
		script string
		limits []cgLimit
		effect func(t *testing.T, c *ctr, p *proc, dirs cgDirs)
	}{
		{"memory", withResources(func(r *specs.LinuxResources) {
			lim, low := int64(16<<20), int64(8<<20)
			r.Memory = &specs.LinuxMemory{Limit: &lim, Reservation: &low}
		}), waiter, []cgLimit{
			{"memory", "memory.limit_in_bytes", "16777216", "memory.max", "16777216"},
			{"memory", "memory.soft_limit_in_bytes", "8388608", "memory.low", "8388608"},
		}, nil}, // the effect, the OOM kill, is TestCgroupOOM
		{"pids", func(s *specs.Spec) {
			writable(s)
			s.Linux.Resources.Pids = &specs.LinuxPids{Limit: refTo(int64(10))}
		},
			// A shell that fails to fork exits, so the forks are a child's,
			// and init then waits without forking: on a fifo it holds open.
			`mkfifo /tmp/f; sh -c 'for i in $(seq 20); do sleep 30 & done'; echo ready; read x <> /tmp/f`,
			[]cgLimit{{"pids", "pids.max", "10", "pids.max", "10"}},
			func(t *testing.T, c *ctr, p *proc, dirs cgDirs) {
				if e := readAll(p.err); !strings.Contains(e, "can't fork") {
					t.Errorf("20 forks under pids.max 10: no \"can't fork\" on stderr: %q", e)
				}
				if ps := c.stats().Data.Pids; ps.Limit != 10 || ps.Current == 0 || ps.Current > 10 {
					t.Errorf("events --stats pids: %d of %d; want 1 to 10 of 10", ps.Current, ps.Limit)
				}
			}},
		{"devices", withCap("CAP_MKNOD"),
			`mknod /dev/kmsg c 1 11 && echo mknod-ok; echo x > /dev/kmsg || echo write-refused; echo x > /dev/null && echo null-ok; ` + waiter,
			nil, func(t *testing.T, c *ctr, p *proc, dirs cgDirs) {
				// v1 only: on v2 the rules are an eBPF program, with no file.
				if _, ok := dirs["devices"]; ok {
					checkDeviceList(t, dirs.read(t, "devices", "devices.list"))
				}
				out, e := readAll(p.stdout), readAll(p.err)
				// mknod is allowed for any device ("c *:* m"); opening kmsg is not.
				for _, w := range []string{"mknod-ok", "write-refused", "null-ok"} {
					if !strings.Contains(out, w) {
						t.Errorf("no %q in the output %q (stderr %q)", w, out, e)
					}
				}
				if !strings.Contains(e, "/dev/kmsg: Operation not permitted") {
					t.Errorf("writing /dev/kmsg: stderr %q, want EPERM", e)
				}
			}},
		{"cpu", withResources(func(r *specs.LinuxResources) {
			r.CPU = &specs.LinuxCPU{Quota: refTo(int64(20000)), Period: refTo(uint64(100000)), Shares: refTo(uint64(512))}
		}), `timeout 1 sh -c 'while :; do :; done'; ` + waiter, []cgLimit{
			{"cpu", "cpu.cfs_quota_us", "20000", "cpu.max", "20000 100000"},
			{"cpu", "cpu.cfs_period_us", "100000", "cpu.max", "20000 100000"},
			{"cpu", "cpu.shares", "512", "cpu.weight", "20"}, // runc's shares->weight
		}, func(t *testing.T, c *ctr, p *proc, dirs cgDirs) {
			// One second of busy loop at 20 % of a CPU: throttled, and
			// about 0.2 s of CPU used (0.5 s allows for start-up).
			cs := c.stats().Data.CPU
			if cs.Throttling.ThrottledPeriods == 0 || cs.Usage.Total == 0 || cs.Usage.Total > 500e6 {
				t.Errorf("after 1 s busy at 20 %%: throttled %d of %d periods, used %d ns of CPU; want throttling, < 0.5 s",
					cs.Throttling.ThrottledPeriods, cs.Throttling.Periods, cs.Usage.Total)
			}
		}},
		{"cpuset", withResources(func(r *specs.LinuxResources) { r.CPU = &specs.LinuxCPU{Cpus: cpu, Mems: "0"} }),
			`grep Cpus_allowed_list /proc/self/status; ` + waiter, []cgLimit{
				{"cpuset", "cpuset.cpus", cpu, "cpuset.cpus", cpu},
				{"cpuset", "cpuset.mems", "0", "cpuset.mems", "0"},
			}, func(t *testing.T, c *ctr, p *proc, dirs cgDirs) {
				if got := statusFields(readAll(p.stdout))["Cpus_allowed_list"]; got != cpu {
					t.Errorf("Cpus_allowed_list inside = %q, want %q", got, cpu)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, tc.edit)
			p, dirs, _ := liveRun(t, c, tc.script)
			dirs.check(t, tc.limits...)
			if tc.effect != nil {
				tc.effect(t, c, p, dirs)
			}
			killRun(t, c, p)
		})
	}
}

// checkDeviceList checks the v1 devices.list: not everything allowed, the
// runtime-spec's default devices allowed, /dev/kmsg (1:11) not.
func checkDeviceList(t *testing.T, list string) {
	t.Helper()
	rules := strings.Split(list, "\n")
	for _, want := range []string{"c 1:3 rwm", "c 1:5 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 136:* rwm"} {
		if !slices.Contains(rules, want) {
			t.Errorf("devices.list lacks %q:\n%s", want, list)
		}
	}
	if slices.Contains(rules, "a *:* rwm") || strings.Contains(list, "1:11") {
		t.Errorf("devices.list allows all, or /dev/kmsg:\n%s", list)
	}
}

func refTo[T any](v T) *T { return &v }

func TestCgroupOOM(t *testing.T) {
	t.Run("run says so", func(t *testing.T) {
		t.Parallel()
		c := newCtr(t, withMemory(16<<20), withSh(hog))
		r := c.run()
		if r.code != 137 || !strings.Contains(r.err, "was killed by the OOM killer: memory limit 16 MiB") {
			t.Errorf("64 MB in a 16 MiB container: %s\nwant exit 137 and the OOM message", r)
		}
	})
	t.Run("events", func(t *testing.T) {
		t.Parallel()
		c := newCtr(t, withMemory(16<<20), withSh(`sh -c '`+hog+`'; echo child=$?; `+waiter))
		create := c.start(nil, c.withID("create", nil)...)
		if r := create.wait(); r.code != 0 {
			t.Fatalf("create: %s", r)
		}
		ev := c.start(nil, "events", "--interval", "200ms", c.id)
		// events counts OOM kills from its start on: let it start first.
		waitEvent(t, ev, "stats")
		c.ok("start", c.id)
		waitOutput(t, create, "ready")
		if out := readAll(create.stdout); !strings.Contains(out, "child=137") {
			t.Errorf("the child over the limit was not SIGKILLed: %q", out)
		}
		waitEvent(t, ev, "oom")
		if m := c.stats().Data.Memory.Usage; m.Failcnt == 0 || m.Limit != 16<<20 {
			t.Errorf("events --stats memory: failcnt %d, limit %d; want > 0, %d", m.Failcnt, m.Limit, 16<<20)
		}
		st, _ := c.state()
		kills := oomKills(t, cgroupDirs(t, st.Pid))
		c.ok("kill", c.id, "KILL")
		t0 := time.Now()
		if r := ev.wait(); r.code != 0 || time.Since(t0) > 15*time.Second {
			t.Errorf("events after the container stopped: took %s: %s", time.Since(t0), r)
		}
		checkEvents(t, c, readAll(ev.stdout), kills)
	})
}

// waitEvent waits until the running `hako events` printed an event of typ.
func waitEvent(t *testing.T, ev *proc, typ string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(readAll(ev.stdout), `"type":"`+typ+`"`); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s event within 20 s; events printed:\n%s\nstderr: %s", typ, readAll(ev.stdout), readAll(ev.err))
		}
	}
}

// oomKills reads the kernel's count of OOM kills in the cgroup.
func oomKills(t *testing.T, dirs cgDirs) int {
	t.Helper()
	file := "memory.events"
	if _, v1 := dirs["memory"]; v1 {
		file = "memory.oom_control"
	}
	for _, l := range strings.Split(dirs.read(t, "memory", file), "\n") {
		if n, ok := strings.CutPrefix(l, "oom_kill "); ok {
			k, _ := strconv.Atoi(n)
			return k
		}
	}
	t.Fatalf("no oom_kill in %s", file)
	return 0
}

// checkEvents checks every line is one JSON event about c, and that there
// are oom events, no more than the kernel counted kills (kills within one
// poll share an event).
func checkEvents(t *testing.T, c *ctr, out string, kills int) {
	t.Helper()
	ooms := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e hakoEvent
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.ID != c.id || (e.Type != "stats" && e.Type != "oom") {
			t.Errorf("events line %q: %v", l, err)
		}
		if e.Type == "oom" {
			ooms++
		}
	}
	if ooms == 0 || ooms > kills {
		t.Errorf("%d oom events for %d OOM kills:\n%s", ooms, kills, out)
	}
}

func TestCgroupPauseResume(t *testing.T) {
	t.Parallel()
	c := newCtr(t, writable)
	// A clock inside: one byte every 20 ms, read from the host.
	p, dirs, pid := liveRun(t, c, `(while :; do echo -n . >> /tmp/ticks; sleep 0.02; done) &
		until [ -s /tmp/ticks ]; do sleep 0.01; done; `+waiter)
	ticks := func() int64 {
		fi, err := os.Stat(fmt.Sprintf("/proc/%d/root/tmp/ticks", pid))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	c.ok("pause", c.id)
	if st, _ := c.state(); st.Status != "paused" {
		t.Errorf("state after pause: %s", st.Status)
	}
	dirs.check(t, cgLimit{"freezer", "freezer.state", "FROZEN", "cgroup.freeze", "1"})
	before := ticks()
	time.Sleep(300 * time.Millisecond)
	if after := ticks(); after != before {
		t.Errorf("the clock inside went on while paused: %d -> %d ticks", before, after)
	}
	if r := c.hako("pause", c.id); r.code == 0 {
		t.Errorf("pause of a paused container exited 0")
	}
	c.ok("resume", c.id)
	if st, _ := c.state(); st.Status != specs.StateRunning {
		t.Errorf("state after resume: %s", st.Status)
	}
	dirs.check(t, cgLimit{"freezer", "freezer.state", "THAWED", "cgroup.freeze", "0"})
	time.Sleep(300 * time.Millisecond)
	if after := ticks(); after == before {
		t.Errorf("the clock inside did not go on after resume: %d ticks", after)
	}
	if r := c.hako("resume", c.id); r.code == 0 {
		t.Errorf("resume of a running container exited 0")
	}
	killRun(t, c, p)
}

// hakoIn runs hako with stdin (`update --resources -`). Pipes are fine:
// update starts no process that would keep them open.
func (e *env) hakoIn(stdin string, args ...string) result {
	cmd := exec.Command(*hakoBin, append([]string{"--root", e.root}, args...)...)
	var out, errOut strings.Builder
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errOut
	cmd.Run()
	return result{out: out.String(), err: errOut.String(), code: cmd.ProcessState.ExitCode()}
}

func TestCgroupUpdate(t *testing.T) {
	t.Parallel()
	c := newCtr(t, withResources(func(r *specs.LinuxResources) {
		r.Memory = &specs.LinuxMemory{Limit: refTo(int64(64 << 20))}
		r.CPU = &specs.LinuxCPU{Quota: refTo(int64(20000)), Period: refTo(uint64(100000))}
		r.Pids = &specs.LinuxPids{Limit: refTo(int64(100))}
	}))
	p, dirs, _ := liveRun(t, c, waiter)
	c.ok("update", "--memory", "32m", "--cpu-quota", "50000", "--pids-limit", "50", c.id)
	dirs.check(t,
		cgLimit{"memory", "memory.limit_in_bytes", "33554432", "memory.max", "33554432"},
		cgLimit{"cpu", "cpu.cfs_quota_us", "50000", "cpu.max", "50000 100000"},
		cgLimit{"cpu", "cpu.cfs_period_us", "100000", "cpu.max", "50000 100000"},
		cgLimit{"pids", "pids.max", "50", "pids.max", "50"})
	res := `{"memory": {"limit": 50331648}, "cpu": {"quota": 30000, "period": 200000}, "pids": {"limit": 40}}`
	if r := c.hakoIn(res, "update", "--resources", "-", c.id); r.code != 0 {
		t.Fatalf("update --resources -: %s", r)
	}
	dirs.check(t,
		cgLimit{"memory", "memory.limit_in_bytes", "50331648", "memory.max", "50331648"},
		cgLimit{"cpu", "cpu.cfs_quota_us", "30000", "cpu.max", "30000 200000"},
		cgLimit{"cpu", "cpu.cfs_period_us", "200000", "cpu.max", "30000 200000"},
		cgLimit{"pids", "pids.max", "40", "pids.max", "40"})
	if st, r := c.state(); r.code != 0 || st.Status != specs.StateRunning {
		t.Errorf("state after update: %s", r)
	}
	if s := c.stats().Data; s.Memory.Usage.Limit != 50331648 || s.Pids.Limit != 40 {
		t.Errorf("events --stats after update: memory limit %d, pids limit %d", s.Memory.Usage.Limit, s.Pids.Limit)
	}
	if r := c.hako("update", "--memory", "lots", c.id); r.code == 0 || !strings.Contains(r.err, "lots") {
		t.Errorf("update --memory lots: %s", r)
	}
	killRun(t, c, p)
}

func TestCgroupPsKillDelete(t *testing.T) {
	t.Parallel()
	c := newCtr(t)
	// --keep: the run must not delete the container; the test does.
	p, dirs, pid := liveRun(t, c, "sleep 30 & sleep 30 & "+waiter, "--keep")
	var pids []int
	if err := json.Unmarshal([]byte(c.ok("ps", "--format", "json", c.id).out), &pids); err != nil {
		t.Fatalf("ps --format json: %v", err)
	}
	for _, p := range pids {
		c.seen(p)
	}
	if len(pids) != 4 || !slices.Contains(pids, pid) { // sh and three sleeps
		t.Errorf("ps --format json = %v, want init %d and its 3 sleeps", pids, pid)
	}
	checkPsTable(t, c.ok("ps", c.id).out, "UID", pids)
	checkPsTable(t, c.ok("ps", c.id, "--", "-o", "pid,comm").out, "PID", pids)
	c.ok("kill", "--all", c.id, "KILL")
	if r := p.wait(); r.code != 137 {
		t.Errorf("run after kill --all KILL: %s", r)
	}
	c.waitStatus(specs.StateStopped)
	for _, p := range pids {
		if s, live := procStat(fmt.Sprintf("/proc/%d", p)); live {
			t.Errorf("pid %d outlived kill --all: %s", p, s)
		}
	}
	c.ok("delete", c.id)
	for _, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("cgroup %s still there after delete (%v)", d, err)
		}
	}
}

// checkPsTable checks `hako ps` printed ps's header (its first column
// first) and one line for each of pids, nothing else.
func checkPsTable(t *testing.T, out, first string, pids []int) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if f := strings.Fields(lines[0]); len(f) == 0 || f[0] != first {
		t.Fatalf("ps header %q, want it to start with %s", lines[0], first)
	}
	col := slices.Index(strings.Fields(lines[0]), "PID")
	var got []int
	for _, l := range lines[1:] {
		n, _ := strconv.Atoi(strings.Fields(l)[col])
		got = append(got, n)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(pids))
	if !slices.Equal(got, want) {
		t.Errorf("ps table has pids %v, want %v:\n%s", got, want, out)
	}
}

// TestCgroupMountWithoutNamespace: without a cgroup namespace the
// container's /sys/fs/cgroup binds the container's own cgroup in each
// hierarchy (as runc does), read-only.
func TestCgroupMountWithoutNamespace(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err != nil {
		t.Skip("no v1 memory hierarchy on this host")
	}
	t.Parallel()
	c := newCtr(t, withoutNamespace(specs.CgroupNamespace), withMemory(24<<20),
		withSh("cat /sys/fs/cgroup/memory/memory.limit_in_bytes; touch /sys/fs/cgroup/memory/x 2>&1 || echo refused"))
	if r := c.run(); r.code != 0 || !strings.Contains(r.out, strconv.Itoa(24<<20)) || !strings.Contains(r.out, "refused") {
		t.Errorf("want the container's own memory cgroup (limit %d), read-only: %s", 24<<20, r)
	}
}

// TestSystemdDriverRefused: this build machine has no systemd and cgroup
// v1: the systemd driver says why it cannot be used and what to use, and
// leaves nothing behind. (tests/systemd runs it on a systemd host.)
func TestSystemdDriverRefused(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		t.Skip("systemd runs this host: tests/systemd covers the driver")
	}
	for _, tc := range []struct {
		name  string
		flags []string
		path  string
		want  string
	}{
		{"--systemd-cgroup", []string{"--systemd-cgroup"}, "", "the systemd cgroup driver needs a cgroup v2 host"},
		{"systemd path", nil, "system.slice:hako:x", "needs the systemd cgroup driver, and systemd does not run this host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCtr(t, withSh("true"), func(s *specs.Spec) { s.Linux.CgroupsPath = tc.path })
			var st unix.Statfs_t
			if tc.flags != nil && unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
				t.Skip("a cgroup v2 host without systemd: the driver fails later, at connecting")
			}
			r := c.hako(append(tc.flags, c.withID("run", nil)...)...)
			if r.code == 0 || !strings.Contains(r.err, tc.want) {
				t.Errorf("want an error with %q: %s", tc.want, r)
			}
			if _, err := os.Stat(filepath.Join(c.root, c.id)); !os.IsNotExist(err) {
				t.Errorf("state left: %v", err)
			}
		})
	}
}
