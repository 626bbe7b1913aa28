//go:build amd64

package seccomp

import (
	"encoding/json"
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// dockerProfile is testdata/docker-default.json: moby's default profile as
// the engine hands it to the runtime on amd64 for a container without
// extra capabilities (about 370 syscalls allowed, the rest EPERM).
func dockerProfile(t testing.TB) *specs.LinuxSeccomp {
	t.Helper()
	b, err := os.ReadFile("testdata/docker-default.json")
	if err != nil {
		t.Fatal(err)
	}
	var s specs.LinuxSeccomp
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func TestDockerDefault(t *testing.T) {
	p := mustCompile(t, dockerProfile(t))
	if len(p.Filter) > maxInsns {
		t.Fatalf("%d insns, over the limit", len(p.Filter))
	}
	eperm, enosys := errnoRet(1), errnoRet(uint32(unix.ENOSYS))
	checkProbes(t, p, []probe{
		{"read", call64("read"), allow},
		{"execve", call64("execve"), allow},
		{"mount", call64("mount"), eperm},
		{"unshare", call64("unshare"), eperm},
		{"thread clone", call64("clone", unix.CLONE_VM|unix.CLONE_THREAD), allow},
		{"clone CLONE_NEWNS", call64("clone", unix.CLONE_NEWNS), eperm},
		{"clone3 gets ENOSYS, so libc falls back to clone", call64("clone3"), enosys},
		{"socket AF_INET", call64("socket", unix.AF_INET), allow},
		{"socket AF_VSOCK", call64("socket", unix.AF_VSOCK), eperm},
		{"personality query", call64("personality", 0xffffffff), allow},
		{"personality READ_IMPLIES_EXEC", call64("personality", 0x0400000), eperm},
		{"syscall newer than the profile", mkdata(abiX86_64, 480, nil), enosys},
		{"i386 socketcall", call32("socketcall"), allow},
		{"i386 mount", call32("mount"), eperm},
		{"x32 read", callX32("read"), allow},
		{"x32 ioctl", callX32("ioctl"), allow},
		{"aarch64", data{arch: unix.AUDIT_ARCH_AARCH64}, badArch},
	})
	if len(p.Warnings) != 0 {
		t.Errorf("warnings: %q", p.Warnings)
	}
	t.Logf("%d insns (limit %d); longest path %d insns", len(p.Filter), maxInsns, longestPath(t, p))
}

// longestPath is the most instructions any syscall runs through.
func longestPath(t *testing.T, p *Program) int {
	worst := 0
	for _, arch := range []uint32{unix.AUDIT_ARCH_X86_64, unix.AUDIT_ARCH_I386} {
		for _, base := range []uint32{0, x32Bit} {
			for n := base; n < base+600; n++ {
				_, steps, err := run(p.Filter, data{nr: n, arch: arch})
				if err != nil {
					t.Fatal(err)
				}
				worst = max(worst, steps)
			}
		}
	}
	return worst
}

func BenchmarkCompileDefault(b *testing.B) {
	s := dockerProfile(b)
	for b.Loop() {
		if _, err := Compile(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileCached is the cache hit: hash, open, check, decode.
func BenchmarkCompileCached(b *testing.B) {
	s := dockerProfile(b)
	dir := b.TempDir()
	if _, err := CompileCached(s, dir); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := CompileCached(s, dir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProfileHash(b *testing.B) {
	s := dockerProfile(b)
	for b.Loop() {
		ProfileHash(s)
	}
}
