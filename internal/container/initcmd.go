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
	// goEnv names the fds for the Go init; nsEnv asks hako-init to join.
	goEnv, nsEnv []string
	// waitMap: the process waits for newuidmap's maps (create writes
	// them once it is started), plan executor or Go init alike.
	waitMap bool
	// own are hako's copies of files only the process needs: closed once
	// it is started (or when starting is given up).
	own []*os.File
}

// initCommand builds the command for f: stdio, the preserved fds, then
// hako's own files, each named by an environment variable for the Go init
// (syncproto.EnvSync ...). program then chooses what runs.
func initCommand(f initFiles) (*initCmd, error) {
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: []string{"hako", "init"}, Dir: f.dir}
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
	c := &initCmd{cmd: cmd, fifoFd: -1, consoleFd: -1}
	add := func(name string, file *os.File) int {
		cmd.ExtraFiles = append(cmd.ExtraFiles, file)
		fd := 2 + len(cmd.ExtraFiles)
		c.goEnv = append(c.goEnv, name+"="+strconv.Itoa(fd))
		return fd
	}
	c.syncFd = add(syncproto.EnvSync, f.sync)
	if f.fifo != nil {
		c.fifoFd = add(syncproto.EnvFifo, f.fifo)
	}
	if f.console != nil {
		c.consoleFd = add(syncproto.EnvConsole, f.console)
		c.own = append(c.own, f.console)
	}
	if f.listener != nil {
		c.listenerFd = add(syncproto.EnvSeccompListener, f.listener)
		c.own = append(c.own, f.listener)
	}
	if len(f.idmapped) > 0 {
		c.mountFds = map[int]int{}
		for _, i := range slices.Sorted(maps.Keys(f.idmapped)) {
			cmd.ExtraFiles = append(cmd.ExtraFiles, f.idmapped[i])
			c.mountFds[i] = 2 + len(cmd.ExtraFiles)
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
		cmd.ExtraFiles = append(cmd.ExtraFiles, pw)
		c.nsEnv = nsenter.EnvUnshare(f.join, f.unshare, 2+len(cmd.ExtraFiles))
	}
	if f.waitMap {
		c.waitMap = true
		c.goEnv = append(c.goEnv, syncproto.EnvWaitMap+"=1")
	}
	return c, nil
}

// program sets what the process runs and its environment: hako-init
// executing a plan (read from the sync socket), or the Go init (see
// initProgram); hako-init's nsenter joins namespaces first either way.
func (c *initCmd) program(log *trace.Log, plan bool) error {
	if plan {
		c.cmd.Env = append([]string{"_HAKO_PLAN=" + strconv.Itoa(c.syncFd)}, c.nsEnv...)
		if c.waitMap {
			c.cmd.Env = append(c.cmd.Env, syncproto.EnvWaitMap+"=1")
		}
	} else {
		c.cmd.Env = append(append([]string{}, c.goEnv...), c.nsEnv...)
	}
	n := len(c.cmd.ExtraFiles)
	err := initProgram(log, c.cmd, plan, c.report != nil)
	for _, f := range c.cmd.ExtraFiles[n:] {
		if !kept(f) {
			c.own = append(c.own, f)
		}
	}
	return err
}

// release closes hako's copies of the files only the process needs.
func (c *initCmd) release() {
	for _, f := range c.own {
		f.Close()
	}
	c.own = nil
}
