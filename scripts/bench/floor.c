/*
 * floor: the least work any container runtime must do to run a program,
 * timed by the benchmark as the floor the runtimes are compared against.
 *
 *   floor ROOTFS [MEMCG]
 *
 * clone(2) into new PID, mount, UTS, IPC and network namespaces; make the
 * mount tree private; bind ROOTFS onto itself (pivot_root(2) needs a mount
 * point); pivot_root into it; detach the old root; exec /bin/true. No /proc,
 * no /dev, no cgroup, no seccomp, no capabilities: everything a runtime adds
 * on top of this is its own cost.
 *
 * MEMCG (a cgroup v1 memory directory) is only for the memory-limit bisection:
 * the parent writes the child's pid into MEMCG/cgroup.procs before letting it
 * go on, as runtimes do, so the child's pages are charged to that cgroup.
 *
 * Exit status: the child's (127 if a step failed; the step goes to stderr).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack[64 * 1024];
static const char *rootfs;
static int sync_pipe[2];

static int fail(const char *step)
{
	perror(step);
	return 127;
}

static int child(void *arg)
{
	char c;
	char *argv[] = {"/bin/true", NULL};
	char *envp[] = {"PATH=/bin", NULL};

	(void)arg;
	/* Wait until the parent has placed us in the cgroup (EOF = go on). */
	close(sync_pipe[1]);
	if (read(sync_pipe[0], &c, 1) < 0)
		return fail("read sync pipe");
	/* Without this, the bind and pivot_root would propagate to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail("make / private");
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return fail("bind rootfs");
	if (chdir(rootfs) < 0)
		return fail("chdir rootfs");
	/* pivot_root(".", ".") stacks the old root on top of the new one;
	 * detaching "." then leaves only the new root (see pivot_root(2)). */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail("pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return fail("detach old root");
	if (chdir("/") < 0)
		return fail("chdir /");
	execve(argv[0], argv, envp);
	return fail("exec /bin/true");
}

static int join_cgroup(const char *dir, pid_t pid)
{
	char path[4096], buf[32];
	int fd, n, ok;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "%d", pid);
	ok = write(fd, buf, n) == n;
	close(fd);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
		    CLONE_NEWNET | SIGCHLD;
	int status;
	pid_t pid;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: floor ROOTFS [MEMCG]\n");
		return 2;
	}
	rootfs = argv[1];
	if (pipe2(sync_pipe, O_CLOEXEC) < 0)
		return fail("pipe");
	pid = clone(child, stack + sizeof(stack), flags, NULL);
	if (pid < 0)
		return fail("clone");
	close(sync_pipe[0]);
	if (argc == 3 && join_cgroup(argv[2], pid) < 0) {
		perror("join memory cgroup");
		kill(pid, SIGKILL);
	}
	close(sync_pipe[1]);
	if (waitpid(pid, &status, 0) < 0)
		return fail("waitpid");
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
