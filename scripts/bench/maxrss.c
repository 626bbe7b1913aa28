/*
 * maxrss: run a command and print the peak resident set size, in KiB, of the
 * largest single process in its tree.
 *
 *   maxrss CMD [ARG...]
 *
 * The number is ru_maxrss from wait4(2) on CMD: the kernel keeps, per
 * process, the high-water mark of its RSS (kept across execve(2), so a
 * runtime's init stage counts even after it execs the container program) and
 * folds in the marks of every descendant the process reaped. It is a maximum,
 * not a sum: two 3 MiB processes alive at once read as 3 MiB.
 *
 * This wrapper is a small static program so that the forked child's own pages
 * (counted until it execs CMD) add as little as possible; the child also
 * resets its mark (clear_refs 5, see proc(5)) right before the exec.
 *
 * CMD's stdout goes to /dev/null; the number is printed on stdout. Exit status:
 * CMD's.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rusage ru;
	int status, fd;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: maxrss CMD [ARG...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 127;
	}
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		fd = open("/proc/self/clear_refs", O_WRONLY);
		if (fd >= 0 && write(fd, "5", 1) != 1)
			perror("clear_refs");
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 127;
	}
	printf("%ld\n", ru.ru_maxrss);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
