package nsenter_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/initplan"
	"hako/internal/spec"
	"hako/internal/syncproto"
	"hako/internal/userns"
)

// The mount-side cases of create plans, run by hako-init in a mount
// namespace of the test's making (and a user namespace where the case
// needs one), on a root filesystem of a static busybox: tmpcopyup, the
// sysfs fallback, an idmapped mount moved in, and no mount namespace at
// all (a chroot). Nothing reaches the test's own mounts; the namespaces go
// with hako-init.

// mountRootfs makes a root filesystem with /bin/busybox and its sh.
func mountRootfs(t *testing.T) string {
	t.Helper()
	bb, err := os.ReadFile("/usr/bin/busybox")
	if err != nil {
		t.Skip("no static busybox at /usr/bin/busybox (scripts/deps.sh installs it)")
	}
	root := t.TempDir()
	for _, d := range []string{"bin", "etc/sub", "sys", "data"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("busybox", filepath.Join(root, "bin/sh")); err != nil {
		t.Fatal(err)
	}
	return root
}

// mountPlan compiles a create plan for a spec with only mounts (no
// hostname, sysctls or network: the test's own namespaces are shared).
func mountPlan(t *testing.T, root string, nss []specs.LinuxNamespaceType, mounts []specs.Mount, script string, edit func(*initplan.Config)) *initplan.Plan {
	t.Helper()
	s := spec.Default()
	s.Root = &specs.Root{Path: root}
	s.Hostname = ""
	s.Process.Terminal = false
	s.Process.Args = []string{"/bin/sh", "-c", script}
	s.Mounts = mounts
	s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
	s.Linux.Namespaces = nil
	for _, ns := range nss {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: ns})
	}
	c := initplan.Config{Spec: s, ID: "executor-mount-test", Bundle: root, Rootfs: root, Trace: true, FifoFd: -1, ConsoleFd: -1,
		TimerSlack: -1, RlimitsBeforePlan: true, UserNS: slices.Contains(nss, specs.UserNamespace)}
	if edit != nil {
		edit(&c)
	}
	h, err := initplan.ProbeHost(c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := initplan.Compile(c, h)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// traced lists the steps of msgs as "step operands" (+ " ERR e").
func traced(msgs []syncproto.Msg) []string {
	var out []string
	for _, m := range msgs {
		if m.Type == syncproto.Trace && m.Event != nil {
			l := m.Event.Step + " " + m.Event.Operands
			if m.Event.Err != "" {
				l += " ERR " + m.Event.Err
			}
			out = append(out, l)
		}
	}
	return out
}

func TestExecutorTmpcopyup(t *testing.T) {
	root := mountRootfs(t)
	etc := filepath.Join(root, "etc")
	must(t, os.WriteFile(filepath.Join(etc, "hello"), []byte("hello\n"), 0o640))
	must(t, os.Chown(filepath.Join(etc, "hello"), 123, 456))
	must(t, os.Symlink("hello", filepath.Join(etc, "link")))
	must(t, os.WriteFile(filepath.Join(etc, "sub/f"), []byte("f\n"), 0o755))
	must(t, unix.Chmod(filepath.Join(etc, "sub/f"), 0o4755))
	must(t, unix.Mkfifo(filepath.Join(etc, "fifo"), 0o600))
	must(t, os.Chmod(filepath.Join(etc, "sub"), 0o750))
	mounts := []specs.Mount{{Destination: "/etc", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "mode=711", "ro"}}}
	script := "cd /etc; for f in . hello link sub sub/f fifo; do /bin/busybox stat -c '%n %u:%g %a %F' $f; done; " +
		"/bin/busybox readlink link; /bin/busybox cat sub/f; /bin/busybox stat -f -c %T .; /bin/busybox touch x || echo read-only"
	plan := mountPlan(t, root, []specs.LinuxNamespaceType{specs.MountNamespace}, mounts, script, nil)
	msgs, out, ws := runExecutorIn(t, plan, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS})
	want := ". 0:0 711 directory\nhello 123:456 640 regular file\nlink 0:0 777 symbolic link\nsub 0:0 750 directory\n" +
		"sub/f 0:0 4755 regular file\nfifo 0:0 600 fifo\nhello\nf\ntmpfs\nread-only\n"
	if ws.ExitStatus() != 0 || out != want {
		t.Errorf("exit %v, in the container:\n%s\nwant:\n%s\nsteps: %q", ws, out, want, traced(msgs))
	}
	if !slices.Contains(traced(msgs), "tmpcopyup /etc (copy its content into the new tmpfs)") {
		t.Errorf("no tmpcopyup step traced: %q", traced(msgs))
	}
	// The image's /etc is as it was.
	if fi, err := os.Stat(filepath.Join(etc, "x")); err == nil {
		t.Errorf("the copy wrote to the image: %v", fi.Name())
	}
}

// A copy that cannot be made fails the step, naming the file.
func TestExecutorTmpcopyupFails(t *testing.T) {
	root := mountRootfs(t)
	// A tmpfs of one page: the file does not fit.
	must(t, os.WriteFile(filepath.Join(root, "etc/big"), make([]byte, 64<<10), 0o644))
	mounts := []specs.Mount{{Destination: "/etc", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "size=4k"}}}
	plan := mountPlan(t, root, []specs.LinuxNamespaceType{specs.MountNamespace}, mounts, "true", nil)
	msgs, out, ws := runExecutorIn(t, plan, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS})
	last := msgs[len(msgs)-1]
	if ws.ExitStatus() != 1 || out != "" || last.Type != syncproto.Error || last.Err.Step != "tmpcopyup" ||
		!strings.Contains(last.Err.Msg, "copy ./big into the tmpfs") || last.Err.Errno != int(unix.ENOSPC) {
		t.Errorf("exit %v, output %q, last message %+v; want a tmpcopyup error naming ./big, ENOSPC", ws, out, last.Err)
	}
}

// sysfs in a user namespace without a network namespace of its own: the
// mount fails with EPERM (traced) and the host's /sys is bound instead.
func TestExecutorSysfsFallback(t *testing.T) {
	root := mountRootfs(t)
	mounts := []specs.Mount{{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}}}
	plan := mountPlan(t, root, []specs.LinuxNamespaceType{specs.MountNamespace, specs.UserNamespace}, mounts,
		"/bin/busybox stat -f -c %T /sys; /bin/busybox test -d /sys/kernel/mm && echo kernel; /bin/busybox touch /sys/x || echo read-only", nil)
	one := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}}
	msgs, out, ws := runExecutorIn(t, plan, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWUSER,
		UidMappings: one, GidMappings: one, Credential: &syscall.Credential{Uid: 0, Gid: 0}})
	if ws.ExitStatus() != 0 || out != "sysfs\nkernel\nread-only\n" {
		t.Errorf("exit %v, in the container %q, want sysfs, its kernel directory, read-only; steps %q", ws, out, traced(msgs))
	}
	steps := strings.Join(traced(msgs), "\n")
	for _, want := range []string{"mount sysfs on /sys (nosuid,noexec,nodev,ro) ERR Operation not permitted",
		"mount sysfs on /sys (nosuid,noexec,nodev,ro) as rbind /sys", "remount sysfs on /sys (nosuid,noexec,nodev,ro) as rbind /sys"} {
		if !strings.Contains(steps, want) {
			t.Errorf("no step %q in:\n%s", want, steps)
		}
	}
	// Without a user namespace sysfs mounts, and nothing is bound.
	plan = mountPlan(t, root, []specs.LinuxNamespaceType{specs.MountNamespace}, mounts, "/bin/busybox stat -f -c %T /sys", nil)
	msgs, out, ws = runExecutorIn(t, plan, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS})
	if ws.ExitStatus() != 0 || out != "sysfs\n" || strings.Contains(strings.Join(traced(msgs), "\n"), "rbind /sys") {
		t.Errorf("no user namespace: exit %v, %q, steps %q", ws, out, traced(msgs))
	}
}

// The idmapped mount the runtime makes (open_tree + MOUNT_ATTR_IDMAP,
// as container.idmappedMounts) is moved onto its target by the plan.
func TestExecutorIDMappedMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	root := mountRootfs(t)
	src := t.TempDir()
	must(t, os.WriteFile(filepath.Join(src, "f"), []byte("f\n"), 0o644))
	must(t, os.Chown(filepath.Join(src, "f"), 1000, 2000))
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	ns, err := userns.NSFile(m, m)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	tree := os.NewFile(uintptr(fd), "idmapped")
	defer tree.Close()
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(ns.Fd())}); err != nil {
		t.Skipf("the test's temporary directory cannot be idmapped here: %v", err)
	}
	mounts := []specs.Mount{{Destination: "/data", Type: "bind", Source: src, Options: []string{"bind", "idmap", "ro"}, UIDMappings: m, GIDMappings: m}}
	plan := mountPlan(t, root, []specs.LinuxNamespaceType{specs.MountNamespace}, mounts,
		"/bin/busybox stat -c '%u:%g' /data/f; /bin/busybox touch /data/x || echo read-only",
		func(c *initplan.Config) { c.MountFds = map[int]int{0: 5} })
	msgs, out, ws := runExecutorIn(t, plan, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS}, tree)
	if ws.ExitStatus() != 0 || out != "101000:102000\nread-only\n" {
		t.Errorf("exit %v, in the container %q, want 101000:102000 (1000:2000 through the mapping) and read-only; steps %q", ws, out, traced(msgs))
	}
}

// No mount namespace: the plan only chroots (nothing is mounted: the
// mounts would be the test's own); the program sees the rootfs as /.
func TestExecutorNoMountNamespace(t *testing.T) {
	root := mountRootfs(t)
	mounts := []specs.Mount{{Destination: "/etc", Type: "tmpfs", Source: "tmpfs"}}
	plan := mountPlan(t, root, nil, mounts, "/bin/busybox ls /; /bin/busybox stat -f -c %T /etc", nil)
	msgs, out, ws := runExecutorIn(t, plan, nil)
	fs := map[int64]string{unix.TMPFS_MAGIC: "tmpfs", unix.EXT4_SUPER_MAGIC: "ext2/ext3", unix.XFS_SUPER_MAGIC: "xfs", unix.OVERLAYFS_SUPER_MAGIC: "overlayfs"}
	var st unix.Statfs_t
	must(t, unix.Statfs(root, &st))
	want := "bin\ndata\netc\nsys\n" + fs[int64(st.Type)] + "\n"
	if ws.ExitStatus() != 0 || out != want || len(plan.Warnings) != 1 {
		t.Errorf("exit %v, in the container %q (want %q), warnings %q; steps %q", ws, out, want, plan.Warnings, traced(msgs))
	}
	if !slices.Contains(traced(msgs), "chroot "+root+" (no mount namespace)") {
		t.Errorf("no chroot step: %q", traced(msgs))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
