package container

import (
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"

	"hako/internal/nsenter"
	"hako/internal/rawfile"
	"hako/internal/syncproto"
	"hako/internal/trace"
)

// initFiles is what hako hands the process it starts, as a container's
// init (create) or as a process exec'd into a running container: create
// and exec describe it, initCommand builds the one command for both.
type initFiles struct {
	dir         string      // working directory ("": hako's)
	stdio       [3]*os.File // nil: hako's own
	preserveFDs int         // fds 3..3+N-1 passed on where the caller had them
	sync        *os.File    // init's end of the sync socket
	fifo        *os.File    // exec.fifo, O_PATH (create, unless run)
	console     *os.File    // connected console socket (process.terminal)
	listener    *os.File    // connected to linux.seccomp.listenerPath
	// idmapped are the idmapped mounts made before clone, by index in the
	// spec's mounts (creation.idmappedMounts); init moves them.
	idmapped map[int]*os.File
	// nsenter: hako-init first joins join (/proc/PID/ns name -> path),
	// user first, then unshares the new namespaces in unshare, and
	// reports the pid of the process that goes on (initCmd.report).
	nsenter bool
	join    map[string]string
	unshare uintptr
	// waitMap: the ID maps are written by newuidmap after clone; init
	// waits for them (syncproto.EnvWaitMap).
	waitMap bool
}

// initCmd is the command built from initFiles, with the fd numbers the
// process sees.
type initCmd struct {
	cmd                       *exec.Cmd
	syncFd, fifoFd, consoleFd int // -1: none
	listenerFd                int // 0: none (initplan.Config.ListenerFd)
	// mountFds: initFiles.idmapped's fds as the process sees them.
	mountFds map[int]int
	// report is the read end of the pipe hako-init's nsenter reports the
	// pid on (nil without nsenter).
	report *os.File
	// nsEnv asks hako-init to join namespaces before it runs the plan.
	nsEnv []string
	// waitMap: the process waits for newuidmap's maps (create writes
	// them once it is started).
	waitMap bool
	// own are hako's copies of files only the process needs: closed once
	// it is started (or when starting is given up).
	own []*os.File
}

// initCommand builds the command for f: stdio, the preserved fds, then
// hako's own files, whose numbers the plan names (initplan.Config's
// FifoFd ...). program then sets hako-init as what runs.
func initCommand(f initFiles) (*initCmd, error) {
	cmd := &exec.Cmd{Args: []string{"hako-init"}, Dir: f.dir}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if f.stdio[0] != nil {
		cmd.Stdin = f.stdio[0]
	}
	if f.stdio[1] != nil {
		cmd.Stdout = f.stdio[1]
	}
	if f.stdio[2] != nil {
		cmd.Stderr = f.stdio[2]
	}
	for i := 0; i < f.preserveFDs; i++ {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(3+i), "preserved"))
	}
	c := &initCmd{cmd: cmd, fifoFd: -1, consoleFd: -1, waitMap: f.waitMap}
	add := func(file *os.File) int {
		cmd.ExtraFiles = append(cmd.ExtraFiles, file)
		return 2 + len(cmd.ExtraFiles)
	}
	c.syncFd = add(f.sync)
	if f.fifo != nil {
		c.fifoFd = add(f.fifo)
	}
	if f.console != nil {
		c.consoleFd = add(f.console)
		c.own = append(c.own, f.console)
	}
	if f.listener != nil {
		c.listenerFd = add(f.listener)
		c.own = append(c.own, f.listener)
	}
	if len(f.idmapped) > 0 {
		c.mountFds = map[int]int{}
		for _, i := range slices.Sorted(maps.Keys(f.idmapped)) {
			c.mountFds[i] = add(f.idmapped[i])
			c.own = append(c.own, f.idmapped[i])
		}
	}
	if f.nsenter {
		pr, pw, err := rawfile.Pipe()
		if err != nil {
			c.release()
			return nil, err
		}
		c.report = pr
		c.own = append(c.own, pw)
		c.nsEnv = nsenter.EnvUnshare(f.join, f.unshare, add(pw))
	}
	return c, nil
}

// program sets what the process runs: hako-init (nsenter.Init, a sealed
// memfd, made once per hako process and kept for its later spawns),
// executed as /proc/self/fd/N, so /proc/<init>/exe names a file nothing
// can write (CVE-2019-5736). Its environment names the sync socket it
// reads the plan from (_HAKO_PLAN), the namespaces its nsenter joins
// first, and whether it waits for newuidmap's maps.
func (c *initCmd) program(log *trace.Log) error {
	var f *os.File
	if err := log.Step("hako-init", "memfd_create, write the embedded program, F_ADD_SEALS write|grow|shrink|seal (once per hako process)", func() (err error) {
		f, err = nsenter.Init()
		return err
	}); err != nil {
		return err
	}
	cmd := c.cmd
	cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	cmd.Path = "/proc/self/fd/" + strconv.Itoa(2+len(cmd.ExtraFiles))
	cmd.Env = append([]string{"_HAKO_PLAN=" + strconv.Itoa(c.syncFd)}, c.nsEnv...)
	if c.waitMap {
		cmd.Env = append(cmd.Env, syncproto.EnvWaitMap+"=1")
	}
	return nil
}

// release closes hako's copies of the files only the process needs.
func (c *initCmd) release() {
	for _, f := range c.own {
		f.Close()
	}
	c.own = nil
}
