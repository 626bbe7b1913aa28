package hkuserns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako/internal/trace"
	"hako/internal/userns"
)

// stageEnv marks the re-executed processes: "map" waits on fd 3 for the
// ID maps, "in" is the process that does the work.
const stageEnv = "_HK_USERNS_STAGE"

// Needed reports whether Enter would re-execute: the caller is not uid 0
// (of any user namespace).
func Needed() bool { return os.Geteuid() != 0 && os.Getenv(stageEnv) != "in" }

// Inside reports whether this process is the worker Enter made.
func Inside() bool { return os.Getenv(stageEnv) == "in" }

// Maps are the ID maps Enter writes for the calling user: its own uid and
// gid as 0, then its /etc/subuid and /etc/subgid ranges from 1 on. A user
// without ranges gets only the single mapping of its own IDs.
func Maps() (uids, gids []specs.LinuxIDMapping, err error) {
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	if Inside() {
		// Inside, getuid is 0: the caller's IDs were passed down.
		u, err1 := strconv.ParseUint(os.Getenv("_HK_USERNS_UID"), 10, 32)
		g, err2 := strconv.ParseUint(os.Getenv("_HK_USERNS_GID"), 10, 32)
		if err1 != nil || err2 != nil {
			return nil, nil, errors.New("hkuserns: the caller's uid and gid are not in the environment")
		}
		uid, gid = uint32(u), uint32(g)
	}
	su, err := subIDs("/etc/subuid", uid)
	if err != nil {
		return nil, nil, err
	}
	sg, err := subIDs("/etc/subgid", uid)
	if err != nil {
		return nil, nil, err
	}
	return userns.Mappings(uid, su), userns.Mappings(gid, sg), nil
}

func subIDs(file string, uid uint32) ([]userns.Range, error) {
	if Inside() {
		// user.Current inside the namespace would say root.
		f, err := os.Open(file)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return userns.ParseSubIDs(f, os.Getenv("_HK_USERNS_USER"), strconv.Itoa(int(uid)))
	}
	return userns.SubIDs(file)
}

// Enter makes the rest of the command run as uid 0 of a new user and mount
// namespace (see the package doc). It returns nil in the process that
// does the work: at once for root, and in the re-executed worker. In the
// calling process it never returns: it exits with the worker's status.
// Call it at the same point of the same command every time (after the
// flags are parsed, before any work): the re-executed processes reach the
// same call and go on from there.
func Enter(log *trace.Log) error {
	switch os.Getenv(stageEnv) {
	case "in":
		// Everything this command mounts stays in its own namespace.
		return log.Step("mount", "/ rprivate", func() error {
			return unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "")
		})
	case "map":
		return waitAndReexec()
	}
	if os.Geteuid() == 0 {
		return nil
	}
	code, err := spawn(log)
	if err != nil {
		return err
	}
	os.Exit(code)
	return nil
}

// spawn starts the first stage in the new namespaces, writes its maps,
// lets it go on and waits for it.
func spawn(log *trace.Log) (int, error) {
	uids, gids, err := Maps()
	if err != nil {
		return 0, err
	}
	exe, err := executable()
	if err != nil {
		return 0, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{r}
	cmd.Env = append(withoutStage(os.Environ()), stageEnv+"=map", "_HK_USERNS_UID="+strconv.Itoa(os.Getuid()),
		"_HK_USERNS_GID="+strconv.Itoa(os.Getgid()), "_HK_USERNS_USER="+userName())
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWNS, Pdeathsig: unix.SIGKILL}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
	err = log.Step("clone user+mount ns", exe, cmd.Start)
	if err != nil {
		w.Close()
		return 0, fmt.Errorf("start %s in a new user namespace: %w", exe, err)
	}
	err = log.Step("id maps", fmt.Sprintf("pid %d uid %v gid %v", cmd.Process.Pid, uids, gids), func() error {
		return writeMaps(cmd.Process.Pid, uids, gids)
	})
	if err != nil {
		w.Close()
		cmd.Process.Kill()
		cmd.Wait()
		return 0, err
	}
	w.Write([]byte{1})
	w.Close()
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ok && ws.Signaled():
		return 128 + int(ws.Signal()), nil
	case ok:
		return ws.ExitStatus(), nil
	}
	return 0, err
}

func userName() string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// writeMaps writes the maps: newuidmap/newgidmap for ranges, or the
// kernel's files directly for the single mapping of one's own IDs (with
// setgroups denied, as the kernel then requires).
func writeMaps(pid int, uids, gids []specs.LinuxIDMapping) error {
	if len(uids) > 1 || len(gids) > 1 {
		return userns.WriteMaps(pid, uids, gids)
	}
	p := "/proc/" + strconv.Itoa(pid)
	if err := os.WriteFile(p+"/uid_map", fmt.Appendf(nil, "0 %d 1\n", uids[0].HostID), 0); err != nil {
		return err
	}
	if err := os.WriteFile(p+"/setgroups", []byte("deny"), 0); err != nil {
		return err
	}
	return os.WriteFile(p+"/gid_map", fmt.Appendf(nil, "0 %d 1\n", gids[0].HostID), 0)
}

// waitAndReexec is the first stage: wait for the maps, then exec again to
// come back with the capabilities of uid 0 in the namespace.
func waitAndReexec() error {
	f := os.NewFile(3, "hkuserns")
	var b [1]byte
	if n, _ := f.Read(b[:]); n != 1 {
		return errors.New("hkuserns: the parent wrote no ID maps")
	}
	f.Close()
	exe, err := executable()
	if err != nil {
		return err
	}
	env := append(withoutStage(os.Environ()), stageEnv+"=in")
	return unix.Exec(exe, os.Args, env)
}

// withoutStage drops the stage variable (the first of duplicates wins in
// Go's Getenv).
func withoutStage(env []string) []string {
	out := env[:0:0]
	for _, e := range env {
		if len(e) < len(stageEnv)+1 || e[:len(stageEnv)+1] != stageEnv+"=" {
			out = append(out, e)
		}
	}
	return out
}

// executable is the program to re-execute: hako itself (HAKO_BIN, set by
// internal/hkexec) when this is hk's payload, which runs from a memfd
// that is gone once it has started; the lean hk delegates to the payload
// again, and the payload comes back to Enter at the same point.
func executable() (string, error) {
	if p := os.Getenv("HAKO_BIN"); p != "" { // hkexec.EnvBin
		return p, nil
	}
	return os.Executable()
}
