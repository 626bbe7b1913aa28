/*
 * warm: keep cgroup migration warm for the "warm" half of the benchmark.
 *
 *   warm CGROUP_A CGROUP_B [INTERVAL_MS]
 *
 * After 20-50 ms with no cgroup migration on the machine, the next write to a
 * cgroup.procs file blocks for 7-16 ms in the kernel: the percpu rwsem that
 * guards migration (cgroup_threadgroup_rwsem) has gone back to its fast
 * reader mode and the writer must wait for an RCU grace period
 * (rcu_sync_enter -> synchronize_rcu). Every runtime that writes cgroup.procs
 * pays this once per container on an idle machine. This helper moves itself
 * (writing "0" to cgroup.procs moves the writer) between two cgroups every
 * INTERVAL_MS (default 5) so the grace period is always already paid, and the
 * runtimes' own writes show what they cost on a busy host.
 *
 * It dies with its parent (PR_SET_PDEATHSIG), so it cannot outlive the
 * benchmark.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static int open_procs(const char *dir)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct timespec interval = {0, 5 * 1000 * 1000};
	int fds[2], i;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: warm CGROUP_A CGROUP_B [INTERVAL_MS]\n");
		return 2;
	}
	if (argc == 4)
		interval.tv_nsec = atol(argv[3]) * 1000 * 1000;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1) /* the parent died before prctl */
		return 1;
	fds[0] = open_procs(argv[1]);
	fds[1] = open_procs(argv[2]);
	for (i = 0;; i ^= 1) {
		if (write(fds[i], "0", 1) != 1) {
			perror("write cgroup.procs");
			return 1;
		}
		nanosleep(&interval, NULL);
	}
}
