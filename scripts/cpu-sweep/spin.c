/*
 * spin N [WORKERS]: burn a fixed amount of CPU (N loop iterations) in each
 * of WORKERS processes; print the wall-clock seconds until all are done and
 * the CPU seconds they used ("1.234 0.617").
 * Run inside a container under a CPU quota, it times the quota alone: the
 * clock starts after the container is up. Static, so the rootfs needs no
 * libc. Processes rather than threads: each is its own CFS entity, as the
 * threads of a multi-threaded program would be.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void work(unsigned long n)
{
	/* volatile: the compiler must not fold the loop away. */
	volatile unsigned long x = 0;
	for (unsigned long i = 0; i < n; i++)
		x += i;
}

static double secs(long s, long ns)
{
	return (double)s + (double)ns / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: spin ITERATIONS [WORKERS]\n");
		return 2;
	}
	unsigned long n = strtoul(argv[1], NULL, 10);
	int workers = argc > 2 ? atoi(argv[2]) : 1;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < workers; i++) {
		pid_t p = fork();
		if (p < 0) {
			perror("spin: fork");
			return 1;
		}
		if (p == 0) {
			work(n);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &b);
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("%.3f %.3f\n", secs(b.tv_sec - a.tv_sec, b.tv_nsec - a.tv_nsec),
	       secs(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec, (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000L));
	return 0;
}
