package tests

import (
	"fmt"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestJoinUserNamespaceByPath: a container given another container's user
// namespace by path (as containerd does for Kubernetes user namespaces)
// runs in it as its root, with new pid/mount/... namespaces owned by it.
func TestJoinUserNamespaceByPath(t *testing.T) {
	t.Parallel()
	a, pid := runningCtr(t, withUserNS(65536, 65536))
	userNS := fmt.Sprintf("/proc/%d/ns/user", pid)
	want, err := os.Readlink(userNS)
	if err != nil {
		t.Fatal(err)
	}
	b := a.env.ctr(func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: userNS})
	}, withSh("id; readlink /proc/self/ns/user; echo pid=$$; readlink /proc/self/ns/pid"))
	r := b.run()
	if r.code != 0 {
		t.Fatalf("run with a joined user namespace: %s", r)
	}
	if !strings.Contains(r.out, "uid=0(root) gid=0(root)") || !strings.Contains(r.out, want) || !strings.Contains(r.out, "pid=1\n") {
		t.Errorf("want root in %s as pid 1 of a new pid namespace:\n%s", want, r.out)
	}
	if pidNS, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); strings.Contains(r.out, pidNS) {
		t.Errorf("the pid namespace was shared, not new: %s", r.out)
	}
}
