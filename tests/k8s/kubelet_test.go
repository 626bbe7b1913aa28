package k8s

// Static pods through the kubelet: the same scenarios with hako as
// containerd's default runtime and then with runc, and the time from a
// manifest written to its container running on each.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hako/tests/internal/guest"
)

// startTimes collects, per runtime, the time from manifest to running.
var startTimes = map[string][]time.Duration{}

func TestKubelet(t *testing.T) {
	for _, rt := range []string{"hako", "runc"} {
		t.Run(rt, func(t *testing.T) {
			n := startNode(t, rt)
			var pods []*pod
			t.Run("SharedVolumeGuaranteed", func(t *testing.T) { pods = append(pods, n.sharedVolume(t)) })
			t.Run("LivenessRestartBurstable", func(t *testing.T) { pods = append(pods, n.livenessRestart(t)) })
			t.Run("OnFailure", func(t *testing.T) { pods = append(pods, n.onFailure(t)) })
			t.Run("GracefulDelete", func(t *testing.T) { pods = append(pods, n.gracefulDelete(t)) })
			t.Run("StartTime", func(t *testing.T) { pods = append(pods, n.startTime(t)...) })
			t.Run("NothingLeft", func(t *testing.T) { n.nothingLeft(t, pods) })
		})
	}
	h, r := median(startTimes["hako"]), median(startTimes["runc"])
	if h > 0 && r > 0 {
		t.Logf("manifest written to container running (median of %d): hako %v, runc %v, hako/runc %.2f",
			len(startTimes["hako"]), h.Round(time.Millisecond), r.Round(time.Millisecond), float64(h)/float64(r))
	}
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// The parts of a container spec every pod here shares.
func ctr(name string, script string, extra map[string]any) map[string]any {
	c := map[string]any{
		"name":            name,
		"image":           imageRef,
		"imagePullPolicy": "Never",
		"command":         []string{"sh", "-c", script},
	}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func resources(requests, limits map[string]string) map[string]any {
	r := map[string]any{"requests": requests}
	if limits != nil {
		r["limits"] = limits
	}
	return r
}

func execProbe(cmd string, period int) map[string]any {
	return map[string]any{"exec": map[string]any{"command": []string{"sh", "-c", cmd}},
		"periodSeconds": period, "failureThreshold": 1, "timeoutSeconds": 5}
}

// sharedVolume: two containers share an emptyDir; the writer serves it
// over HTTP (its readiness probe, from the kubelet over the pod network),
// the reader prints what the writer wrote (its readiness an exec probe).
// Requests equal limits: Guaranteed, the pod's cgroup right under
// kubepods.slice. Then crictl exec (with a terminal) and logs.
func (n *node) sharedVolume(t *testing.T) *pod {
	lim := map[string]string{"cpu": "100m", "memory": "32Mi"}
	p := n.apply(t, "hk-shared", map[string]any{
		"dnsPolicy":                     "Default",
		"terminationGracePeriodSeconds": 2,
		"volumes":                       []any{map[string]any{"name": "shared", "emptyDir": map[string]any{}}},
		"containers": []any{
			ctr("writer", "echo hello from writer >/shared/msg && exec httpd -f -p 8080 -h /shared", map[string]any{
				"resources":      resources(lim, lim),
				"volumeMounts":   []any{map[string]any{"name": "shared", "mountPath": "/shared"}},
				"readinessProbe": map[string]any{"httpGet": map[string]any{"path": "/msg", "port": 8080}, "periodSeconds": 2},
			}),
			ctr("reader", "until [ -f /shared/msg ]; do sleep 0.2; done; cat /shared/msg; exec sleep 3600", map[string]any{
				"resources":      resources(lim, lim),
				"volumeMounts":   []any{map[string]any{"name": "shared", "mountPath": "/shared", "readOnly": true}},
				"readinessProbe": execProbe("test -s /shared/msg", 2),
			}),
		},
	})
	t.Cleanup(func() { n.delete(t, p) })
	for _, c := range []string{"writer", "reader"} {
		n.waitStatus(t, p, c, "ready", 3*time.Minute, func(s *containerStatus) bool { return s.Ready })
	}
	kp := n.kubeletPod(t, p)
	if kp.Status.QOSClass != "Guaranteed" || kp.Status.PodIP == "" {
		t.Errorf("the kubelet's pod: QoS %q, IP %q; want Guaranteed and an IP from %s", kp.Status.QOSClass, kp.Status.PodIP, podSubnet)
	}
	// From the host, over the bridge: the writer's file.
	if out := guest.Run(t, busybox, "wget", "-q", "-O-", "http://"+kp.Status.PodIP+":8080/msg"); out != "hello from writer" {
		t.Errorf("wget from the pod: %q", out)
	}
	sb := n.sandbox(t, p)
	pcg := podCgroup("Guaranteed", p.uid)
	checkCgroup(t, pcg, map[string]string{"memory.max": "67108864", "cpu.max": "20000 100000", "cpu.weight": weight(200)})
	for _, c := range []string{"writer", "reader"} {
		id := containerID(n.status(t, p, c).ContainerID)
		n.checkRuntime(t, id)
		ci := n.inspect(t, id)
		scope := pcg + "/cri-containerd-" + id + ".scope"
		if got := guest.ReadFile(t, fmt.Sprintf("/proc/%d/cgroup", ci.Info.Pid)); got != "0::/"+scope {
			t.Errorf("%s's process is in %s, want /%s", c, got, scope)
		}
		checkCgroup(t, scope, map[string]string{"memory.max": "33554432", "cpu.max": "10000 100000", "cpu.weight": weight(100)})
		if ci.Status.Labels["io.kubernetes.pod.uid"] != p.uid {
			t.Errorf("%s: labels %v", c, ci.Status.Labels)
		}
	}
	reader := containerID(n.status(t, p, "reader").ContainerID)
	guest.WaitFor(t, "the reader's log", time.Minute, func() bool {
		return strings.Contains(guest.Try(n.cri("logs", reader)...).Stdout, "hello from writer")
	})
	if out := guest.Run(t, n.cri("exec", "--sync", reader, "cat", "/shared/msg")...); out != "hello from writer" {
		t.Errorf("crictl exec --sync: %q", out)
	}
	// crictl reports the command's exit status in a message and exits 1.
	if r := guest.TTYRun(n.cri("exec", "-it", reader, "sh", "-c", "'tty; touch /shared/x; exit 4'")...); !strings.Contains(r.Stdout, "/dev/pts/") ||
		!strings.Contains(r.Stdout, "Read-only file system") || !strings.Contains(r.Stdout, "command terminated with exit code 4") {
		t.Errorf("crictl exec -it: want a pts, the read-only volume refused and exit 4: %s", r)
	}
	if out := guest.Run(t, n.cri("ps", "-q", "--pod", sb, "--state", "running")...); len(strings.Fields(out)) != 2 {
		t.Errorf("crictl ps of the pod: %q, want the two containers", out)
	}
	return p
}

// livenessRestart: the first instance of the container is never healthy
// (its exec liveness probe fails), the kubelet kills it and starts it
// again; the second instance is (an emptyDir outlives a restart). The
// readiness probe follows. Requests below limits: Burstable.
func (n *node) livenessRestart(t *testing.T) *pod {
	script := `if [ -f /vol/started ]; then touch /tmp/healthy; else touch /vol/started; fi; exec sleep 3600`
	p := n.apply(t, "hk-liveness", map[string]any{
		"dnsPolicy":                     "Default",
		"terminationGracePeriodSeconds": 2,
		"volumes":                       []any{map[string]any{"name": "vol", "emptyDir": map[string]any{}}},
		"containers": []any{ctr("app", script, map[string]any{
			"resources":      resources(map[string]string{"cpu": "50m", "memory": "16Mi"}, map[string]string{"memory": "48Mi"}),
			"volumeMounts":   []any{map[string]any{"name": "vol", "mountPath": "/vol"}},
			"livenessProbe":  execProbe("test -f /tmp/healthy", 2),
			"readinessProbe": execProbe("test -f /tmp/healthy", 2),
		})},
	})
	t.Cleanup(func() { n.delete(t, p) })
	first := containerID(n.waitStatus(t, p, "app", "running", 3*time.Minute, func(s *containerStatus) bool { return s.State.Running != nil }).ContainerID)
	if s := n.status(t, p, "app"); s.Ready {
		t.Errorf("the first instance is ready, but its readiness probe fails: %+v", s)
	}
	// crictl sees the first instance killed. Watched for, not looked up
	// later: the kubelet's container garbage collection keeps one dead
	// instance, but may count the next one, created and not yet started,
	// as dead, and remove this one then.
	c := n.waitExited(t, first)
	if c.Status.ExitCode != 137 {
		t.Errorf("crictl inspect of the killed instance: exit %d, want 137", c.Status.ExitCode)
	}
	n.checkLoggedExit(t, first, 137)
	if log := n.log(); !strings.Contains(log, "Container app failed liveness probe, will be restarted") {
		t.Errorf("the kubelet's log has no liveness failure:\n%s", tail(log, 40))
	}
	st := n.waitStatus(t, p, "app", "restarted once and ready", 3*time.Minute, func(s *containerStatus) bool {
		return s.RestartCount >= 1 && s.Ready
	})
	if st.RestartCount != 1 || containerID(st.ContainerID) == first {
		t.Errorf("after the liveness failure: %d restarts, container %s; want 1 and a new container", st.RestartCount, st.ContainerID)
	}
	id := containerID(st.ContainerID)
	n.checkRuntime(t, id)
	pcg := podCgroup("Burstable", p.uid)
	checkCgroup(t, pcg, map[string]string{"memory.max": "50331648", "cpu.max": "max 100000", "cpu.weight": weight(50)})
	checkCgroup(t, pcg+"/cri-containerd-"+id+".scope", map[string]string{"memory.max": "50331648", "cpu.max": "max 100000", "cpu.weight": weight(50)})
	if kp := n.kubeletPod(t, p); kp.Status.QOSClass != "Burstable" {
		t.Errorf("QoS %q, want Burstable", kp.Status.QOSClass)
	}
	return p
}

// onFailure: restartPolicy OnFailure, a container that exits 3 the first
// time and 0 the second: restarted once, then left Completed.
func (n *node) onFailure(t *testing.T) *pod {
	script := `n=$(cat /vol/n 2>/dev/null || echo 0); echo $((n+1)) >/vol/n; echo run $n; [ "$n" -ge 1 ] && exit 0; exit 3`
	p := n.apply(t, "hk-onfailure", map[string]any{
		"dnsPolicy":     "Default",
		"restartPolicy": "OnFailure",
		"volumes":       []any{map[string]any{"name": "vol", "emptyDir": map[string]any{}}},
		"containers": []any{ctr("job", script, map[string]any{
			"volumeMounts": []any{map[string]any{"name": "vol", "mountPath": "/vol"}},
		})},
	})
	t.Cleanup(func() { n.delete(t, p) })
	// The first run, as soon as it has exited (see livenessRestart on why
	// it is watched for): exit 3 and its log.
	var failed string
	guest.WaitFor(t, "the first run to exit", 3*time.Minute, func() bool {
		failed = guest.Try(n.cri("ps", "-a", "-q", "--state", "exited", "--label", "io.kubernetes.pod.uid="+p.uid)...).Stdout
		return failed != ""
	})
	failed = strings.Fields(failed)[0]
	if c := n.waitExited(t, failed); c.Status.ExitCode != 3 {
		t.Errorf("crictl inspect of the first run: exit %d, want 3", c.Status.ExitCode)
	}
	if out := guest.Run(t, n.cri("logs", failed)...); out != "run 0" {
		t.Errorf("crictl logs of the first run: %q", out)
	}
	st := n.waitStatus(t, p, "job", "completed", 3*time.Minute, func(s *containerStatus) bool {
		return s.State.Terminated != nil && s.State.Terminated.ExitCode == 0
	})
	// (Not its lastState: the kubelet keeps one dead instance per
	// container, removes the first run when the second has exited, and
	// then may report no last state at all.)
	if st.RestartCount != 1 || st.State.Terminated.Reason != "Completed" || containerID(st.ContainerID) == failed {
		t.Errorf("kubelet: %d restarts, now %+v; want 1 restart after the first run (%s) exited 3, then Completed", st.RestartCount, st.State.Terminated, failed)
	}
	second := containerID(st.ContainerID)
	if c := n.inspect(t, second); c.Status.ExitCode != 0 || c.Status.State != "CONTAINER_EXITED" {
		t.Errorf("crictl inspect of the second run: %s, exit %d; want exited, 0", c.Status.State, c.Status.ExitCode)
	}
	if out := guest.Run(t, n.cri("logs", second)...); out != "run 1" {
		t.Errorf("crictl logs of the second run: %q", out)
	}
	n.checkLoggedExit(t, failed, 3)
	n.checkLoggedExit(t, second, 0)
	// Not restarted again: the pod has succeeded.
	time.Sleep(5 * time.Second)
	if kp := n.kubeletPod(t, p); kp.Status.Phase != "Succeeded" || kp.Status.ContainerStatuses[0].RestartCount != 1 {
		t.Errorf("after success: phase %s, %d restarts; want Succeeded, 1", kp.Status.Phase, kp.Status.ContainerStatuses[0].RestartCount)
	}
	n.checkRuntimeOptions(t, second)
	return p
}

// gracefulDelete: a container that traps SIGTERM (records it on a
// hostPath, then carries on) in a pod with a 3 s grace period. Removing
// the manifest makes the kubelet send TERM, wait the grace period, KILL.
func (n *node) gracefulDelete(t *testing.T) *pod {
	const grace = 3
	host := n.path("host", "term")
	// The time of the TERM: the kernel's uptime, which the container and
	// the host read alike (busybox's date has no sub-second format).
	script := `trap 'read up idle </proc/uptime; echo $up >/host/term; echo got TERM' TERM; echo up; while :; do sleep 0.2; done`
	p := n.apply(t, "hk-graceful", map[string]any{
		"dnsPolicy":                     "Default",
		"terminationGracePeriodSeconds": grace,
		"volumes": []any{map[string]any{"name": "host",
			"hostPath": map[string]any{"path": filepath.Dir(host), "type": "Directory"}}},
		"containers": []any{ctr("app", script, map[string]any{
			"volumeMounts": []any{map[string]any{"name": "host", "mountPath": "/host"}},
		})},
	})
	t.Cleanup(func() { n.delete(t, p) })
	id := containerID(n.waitStatus(t, p, "app", "running", 3*time.Minute, func(s *containerStatus) bool { return s.State.Running != nil }).ContainerID)
	n.checkRuntime(t, id)
	guest.WaitFor(t, "the trap to be set", time.Minute, func() bool {
		return strings.Contains(guest.Try(n.cri("logs", id)...).Stdout, "up")
	})
	pid := n.inspect(t, id).Info.Pid
	deleted := uptime(t)
	n.delete(t, p)
	guest.WaitFor(t, "the container's process to end", 2*time.Minute, func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
		return os.IsNotExist(err)
	})
	gone := uptime(t)
	b, err := os.ReadFile(host)
	if err != nil {
		t.Fatalf("no SIGTERM reached the container: %v", err)
	}
	term, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
	if err != nil {
		t.Fatalf("the container's record of the TERM: %v", err)
	}
	// TERM after the deletion; KILL a grace period after TERM (the trap
	// runs within 0.2 s of the signal: the loop's sleep).
	if term < deleted || gone-term < grace-1 {
		t.Errorf("uptime at the deletion %.2f, at the TERM %.2f, with the process gone %.2f: want TERM, then the %d s grace period", deleted, term, gone, grace)
	}
	var c criContainer
	guest.WaitFor(t, "crictl to see the container exited", time.Minute, func() bool {
		c = n.inspect(t, id)
		return c.Status.State == "CONTAINER_EXITED"
	})
	if c.Status.ExitCode != 137 {
		t.Errorf("exit code %d, want 137 (KILL after the grace period)", c.Status.ExitCode)
	}
	n.checkLoggedExit(t, id, 137)
	if log := n.log(); !strings.Contains(log, "Killing container with a grace period") || !strings.Contains(log, fmt.Sprintf("gracePeriod=%d", grace)) {
		t.Errorf("the kubelet's log does not show the kill with a %d s grace period:\n%s", grace, tail(log, 40))
	}
	t.Logf("TERM %.2fs after the manifest was removed, process gone %.2fs after TERM", term-deleted, gone-term)
	return p
}

// startTime: from the manifest written to the container running (its
// startedAt, as containerd recorded it), a few times.
func (n *node) startTime(t *testing.T) []*pod {
	var pods []*pod
	for i := range 3 {
		p := n.apply(t, fmt.Sprintf("hk-start%d", i), map[string]any{
			"dnsPolicy":                     "Default",
			"terminationGracePeriodSeconds": 0,
			"containers":                    []any{ctr("app", "exec sleep 3600", nil)},
		})
		pods = append(pods, p)
		id := containerID(n.waitStatus(t, p, "app", "running", 3*time.Minute, func(s *containerStatus) bool { return s.State.Running != nil }).ContainerID)
		c := n.inspect(t, id)
		d := c.Status.StartedAt.Sub(p.written)
		t.Logf("%s: manifest to running %v (the container's create to start, the runtime's part: %v)",
			n.runtime, d.Round(time.Millisecond), c.Status.StartedAt.Sub(c.Status.CreatedAt).Round(time.Millisecond))
		startTimes[n.runtime] = append(startTimes[n.runtime], d)
		n.delete(t, p)
		guest.WaitFor(t, "the pod to stop", 2*time.Minute, func() bool {
			return guest.Try(n.cri("ps", "-q", "--label", "io.kubernetes.pod.uid="+p.uid)...).Stdout == ""
		})
	}
	return pods
}

// nothingLeft removes every manifest and checks that the kubelet and
// containerd remove everything of the pods: sandboxes and containers (the
// kubelet's garbage collection runs once a minute), systemd units, pod
// cgroups, mounts, processes, network namespaces, IP leases, hako's state.
func (n *node) nothingLeft(t *testing.T, pods []*pod) {
	// Every sandbox and container the kubelet made.
	ids := strings.Fields(guest.Run(t, n.cri("pods", "-q")...) + " " + guest.Run(t, n.cri("ps", "-a", "-q")...))
	var pids []int
	for _, id := range strings.Fields(guest.Run(t, n.cri("ps", "-q")...)) {
		pids = append(pids, n.inspect(t, id).Info.Pid)
	}
	for _, p := range pods {
		n.delete(t, p)
	}
	guest.WaitFor(t, "the kubelet to forget the pods", 2*time.Minute, func() bool {
		for _, p := range pods {
			if n.kubeletPod(t, p) != nil {
				return false
			}
		}
		return true
	})
	guest.WaitFor(t, "the kubelet to remove every sandbox and container", 4*time.Minute, func() bool {
		return guest.Run(t, n.cri("pods", "-q")...) == "" && guest.Run(t, n.cri("ps", "-a", "-q")...) == ""
	})
	// Pod slices: kubepods-pod<uid>.slice, kubepods-<qos>-pod<uid>.slice.
	if out := guest.Run(t, "systemctl", "list-units", "--all", "--plain", "--no-legend", "cri-containerd-*", "kubepods-pod*", "kubepods-*-pod*"); out != "" {
		t.Errorf("units left:\n%s", out)
	}
	if out := guest.Run(t, "find", "/sys/fs/cgroup/kubepods.slice", "-name", "*-pod*.slice", "-o", "-name", "cri-containerd-*"); out != "" {
		t.Errorf("pod cgroups left:\n%s", out)
	}
	mounts := guest.ReadFile(t, "/proc/self/mountinfo")
	for _, l := range strings.Split(mounts, "\n") {
		if strings.Contains(l, n.path("kubelet", "pods")) || strings.Contains(l, "/run/netns/cni-") || slices.ContainsFunc(ids, func(id string) bool { return strings.Contains(l, id) }) {
			t.Errorf("mount left: %s", l)
		}
	}
	for _, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Errorf("process %d of a container is still there", pid)
		}
	}
	if out := guest.Try("pgrep", "-af", "containerd-shim").Stdout; slices.ContainsFunc(ids, func(id string) bool { return strings.Contains(out, id) }) {
		t.Errorf("a shim of the pods is still running:\n%s", out)
	}
	if ents, _ := os.ReadDir(hakoStateRoot); slices.ContainsFunc(ents, func(e os.DirEntry) bool { return slices.Contains(ids, e.Name()) }) {
		t.Errorf("runtime state left in %s: %v", hakoStateRoot, ents)
	}
	if ents, _ := os.ReadDir(filepath.Join(n.path("ipam"), "hako-k8s")); slices.ContainsFunc(ents, func(e os.DirEntry) bool { return strings.HasPrefix(e.Name(), "10.") }) {
		t.Errorf("IP leases left: %v", ents)
	}
	// (No bridge at all is no veth either: the plugin makes it with the
	// first pod.)
	if out := guest.Try("ip", "-o", "link", "show", "master", bridgeName).Stdout; out != "" {
		t.Errorf("veths left on %s:\n%s", bridgeName, out)
	}
}

// uptime is the kernel's uptime in seconds (/proc/uptime).
func uptime(t *testing.T) float64 {
	t.Helper()
	f := strings.Fields(guest.ReadFile(t, "/proc/uptime"))
	u, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
