//go:build amd64

package seccomp

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The kernel tests load filters for real. A filter cannot be taken off, so
// each runs in a child: the test binary re-executed with childEnv naming
// the function to run. The filters touch only syscalls the Go runtime does
// not make (mkdirat, getppid, umask, getpriority, uname).
const childEnv = "HAKO_SECCOMP_TEST_CHILD"

var children = map[string]func() error{
	"errno":  childErrno,
	"kill":   childKill,
	"trap":   childTrap,
	"notify": childNotify,
}

func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		// The filter binds the loading thread; keep this goroutine on it.
		runtime.LockOSThread()
		if err := children[name](); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child runs the named child function in a new process.
func child(t *testing.T, name string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, childEnv+"="+name)...)
	cmd.Dir = t.TempDir()
	return cmd
}

// loadNNP compiles s and loads it on this thread, after no_new_privs as an
// unprivileged runtime would.
func loadNNP(s *specs.LinuxSeccomp) (int, error) {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return -1, err
	}
	p, err := Compile(s)
	if err != nil {
		return -1, err
	}
	return install(p)
}

func TestKernelErrno(t *testing.T) {
	out, err := child(t, "errno").CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func childErrno() error {
	_, err := loadNNP(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		sc(specs.ActErrno, "mkdir", "mkdirat"),
		withErrno(sc(specs.ActErrno, "getppid"), 1234),
		withArgs(withErrno(sc(specs.ActErrno, "umask"), uint(unix.EDOM)), arg(0, specs.OpEqualTo, 0o27)),
		withArgs(withErrno(sc(specs.ActErrno, "getpriority"), uint(unix.ERANGE)), arg(1, specs.OpGreaterThan, 0xffffffff)),
	}})
	if err != nil {
		return err
	}
	checks := []struct {
		what string
		err  error
		want error
	}{
		{"mkdirat", unix.Mkdirat(unix.AT_FDCWD, "dir", 0o700), unix.EPERM},
		{"getppid", rawErr(unix.SYS_GETPPID), unix.Errno(1234)},
		{"umask(027)", rawErr(unix.SYS_UMASK, 0o27), unix.EDOM},
		{"umask(022)", rawErr(unix.SYS_UMASK, 0o22), nil},
		{"getpriority who=1<<32", rawErr(unix.SYS_GETPRIORITY, unix.PRIO_PROCESS, 1<<32), unix.ERANGE},
		{"getpriority who=0", rawErr(unix.SYS_GETPRIORITY, unix.PRIO_PROCESS, 0), nil},
	}
	for _, c := range checks {
		if !errors.Is(c.err, c.want) && c.err != c.want {
			return fmt.Errorf("%s: got %v, want %v", c.what, c.err, c.want)
		}
	}
	if _, err := os.Stat("dir"); !os.IsNotExist(err) {
		return fmt.Errorf("mkdirat made the directory: %v", err)
	}
	return nil
}

func rawErr(nr uintptr, args ...uintptr) error {
	a := make([]uintptr, 3)
	copy(a, args)
	if _, _, e := unix.RawSyscall(nr, a[0], a[1], a[2]); e != 0 {
		return e
	}
	return nil
}

func TestKernelKillProcess(t *testing.T) {
	err := child(t, "kill").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != unix.SIGSYS {
		t.Fatalf("child: %v, want death by SIGSYS", err)
	}
}

func childKill() error {
	// No core file in the test's directory.
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return err
	}
	if _, err := loadNNP(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{sc(specs.ActKillProcess, "uname")}}); err != nil {
		return err
	}
	var u unix.Utsname
	unix.Uname(&u)
	return errors.New("uname returned")
}

// TestKernelTrap: SECCOMP_RET_TRAP raises SIGSYS, which the Go runtime
// reports as a crash.
func TestKernelTrap(t *testing.T) {
	out, err := child(t, "trap").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "SIGSYS") {
		t.Fatalf("child: %v, want a SIGSYS crash\n%s", err, out)
	}
}

func childTrap() error {
	if _, err := loadNNP(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{sc(specs.ActTrap, "uname")}}); err != nil {
		return err
	}
	var u unix.Utsname
	unix.Uname(&u)
	return errors.New("uname returned")
}

func TestFeatures(t *testing.T) {
	f := Features()
	if len(f.Actions) != 9 || len(f.Operators) != 7 || len(f.Archs) != 3 || len(f.KnownFlags) != 4 {
		t.Errorf("features: %+v", f)
	}
	t.Logf("supported flags: %s", strings.Join(f.SupportedFlags, " "))
}
