/*
 * hako-mon: the monitor of one detached hk container (podman's conmon, in
 * ~250 lines and ~100 KB of memory).
 *
 *   hako-mon EXITFILE LOGFILE PIDFILE MODE -- PATH ARGV0 ARGS... -- PATH ARGV0 ARGS...
 *                                              (CREATE)                (ONEXIT)
 *
 * It becomes a child subreaper, runs CREATE (hk's hidden `_create`: the
 * runtime, in-process, makes and starts the container and writes init's
 * pid to PIDFILE) with stdout and stderr on pipes and stdin on /dev/null,
 * or, when MODE has an i, on a pipe the monitor holds open (docker run -di).
 * When MODE has a t (docker run -dt), CREATE also gets fd 4, a socket on
 * which the runtime sends the container's pty master (the console socket
 * of runc's protocol); the monitor then holds the master, so the
 * container's terminal lives as long as it does, and logs what is written
 * to it as stdout.
 * Once CREATE exits, the container's init is the monitor's child (its
 * parent died; the monitor is the nearest subreaper). From then on it
 * copies the container's output to LOGFILE in podman's k8s-file format
 *
 *   2026-12-07T00:47:48.123456789Z stdout F a whole line
 *   2026-12-07T00:47:48.123456789Z stderr P a partial line (no newline yet)
 *
 * and when init exits it writes "STATUS SECONDS.NANOS\n" to EXITFILE
 * (through a temporary file and rename, so a reader sees all or nothing),
 * STATUS being the exit code or 128+signal, as Docker reports it, and
 * executes ONEXIT (hk's hidden `_exited`: records the exit, does --rm).
 *
 * fd 3, when open, is CREATE's report channel to the hk that started the
 * monitor: the monitor closes its own copy so that hk sees EOF as soon as
 * CREATE is done. If CREATE fails, the monitor exits 1 and hk reports
 * CREATE's error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int logfd = -1;

static void die(const char *what)
{
	dprintf(2, "hako-mon: %s: %s\n", what, strerror(errno));
	_exit(1);
}

static void write_all(int fd, const char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a full disk loses log lines, not the container */
		b += w;
		n -= (size_t)w;
	}
}

/* k8s-file: one record per line of output; the tail without a newline
 * is a partial record (P), continued by the next. */
static void log_chunk(const char *stream, const char *b, size_t n)
{
	struct timespec ts;
	struct tm tm;
	char prefix[96];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t p = strftime(prefix, sizeof prefix, "%Y-%m-%dT%H:%M:%S", &tm);
	while (n > 0) {
		const char *nl = memchr(b, '\n', n);
		size_t len = nl ? (size_t)(nl - b) : n;
		int k = snprintf(prefix + p, sizeof prefix - p, ".%09ldZ %s %c ", ts.tv_nsec, stream, nl ? 'F' : 'P');
		write_all(logfd, prefix, p + (size_t)k);
		write_all(logfd, b, len);
		write_all(logfd, "\n", 1);
		b += len + (nl ? 1 : 0);
		n -= len + (nl ? 1 : 0);
	}
}

/* pump copies what fd has to the log; it returns 0 at EOF. */
static int pump(int fd, const char *stream)
{
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	log_chunk(stream, buf, (size_t)n);
	return 1;
}

/* recv_fd receives the fd sent with SCM_RIGHTS on sock (-1: none). */
static int recv_fd(int sock)
{
	char buf[64], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {buf, sizeof buf};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	if (recvmsg(sock, &m, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

static int status_code(int st)
{
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static void write_exit(const char *path, int code)
{
	char tmp[4096], buf[64];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die("open exit file");
	int n = snprintf(buf, sizeof buf, "%d %lld.%09ld\n", code, (long long)ts.tv_sec, ts.tv_nsec);
	write_all(fd, buf, (size_t)n);
	fsync(fd);
	close(fd);
	if (rename(tmp, path) < 0)
		die("rename exit file");
}

static pid_t read_pid(const char *path)
{
	char buf[32] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n > 0 ? (pid_t)atol(buf) : -1;
}

int main(int argc, char **argv)
{
	if (argc < 8 || strcmp(argv[5], "--"))
		return dprintf(2, "usage: hako-mon EXITFILE LOGFILE PIDFILE MODE -- PATH ARGV0 ARGS... -- PATH ARGV0 ARGS...\n"), 2;
	const char *exitfile = argv[1], *logfile = argv[2], *pidfile = argv[3];
	int keep_stdin = strchr(argv[4], 'i') != NULL, tty = strchr(argv[4], 't') != NULL;
	char **create = argv + 6, **onexit = NULL;
	for (char **a = create; *a; a++)
		if (!strcmp(*a, "--")) {
			*a = NULL;
			onexit = a + 1;
			break;
		}
	if (!onexit || !onexit[0] || !onexit[1] || !create[0] || !create[1])
		return dprintf(2, "hako-mon: CREATE and ONEXIT commands are both needed, each PATH ARGV0 [ARGS]\n"), 2;

	prctl(PR_SET_NAME, "hako-mon");
	/* hk passed its program here as fd 4: no child needs it. */
	syscall(SYS_close_range, 4U, ~0U, 0U);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die("PR_SET_CHILD_SUBREAPER");
	signal(SIGPIPE, SIG_IGN);
	logfd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (logfd < 0)
		die("open log");
	int out[2], err[2], in[2] = {-1, -1};
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || (keep_stdin && pipe2(in, O_CLOEXEC) < 0))
		die("pipe");
	int console[2] = {-1, -1};
	if (tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0)
		die("socketpair");
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		die("signalfd");

	pid_t creator = fork();
	if (creator < 0)
		die("fork");
	if (creator == 0) {
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		signal(SIGPIPE, SIG_DFL);
		int null = open("/dev/null", O_RDWR);
		if (dup2(keep_stdin ? in[0] : null, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(127);
		if (tty && (console[1] == 4 ? fcntl(4, F_SETFD, 0) : dup2(console[1], 4)) < 0)
			_exit(127);
		execv(create[0], create + 1);
		dprintf(3, "hako-mon: exec %s: %s\n", create[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	if (tty)
		close(console[1]);
	if (keep_stdin)
		close(in[0]); /* in[1] stays open: the container's stdin never ends */
	close(3);

	pid_t ctr = -1;
	int creator_done = 0, ctr_status = -1, early_pid = -1, early_status = 0;
	int open_out = 1, open_err = 1, master = -1, open_tty = tty;
	struct timespec drain_until = {0};
	for (;;) {
		struct pollfd p[4] = {{sfd, POLLIN, 0}, {open_out ? out[0] : -1, POLLIN, 0}, {open_err ? err[0] : -1, POLLIN, 0},
				      {!open_tty ? -1 : master >= 0 ? master : console[0], POLLIN, 0}};
		int timeout = -1;
		if (ctr_status >= 0) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			long ms = (drain_until.tv_sec - now.tv_sec) * 1000 + (drain_until.tv_nsec - now.tv_nsec) / 1000000;
			if ((!open_out && !open_err && !open_tty) || ms <= 0)
				break;
			timeout = (int)ms;
		}
		if (poll(p, 4, timeout) < 0 && errno != EINTR)
			die("poll");
		if (p[3].revents && master < 0) {
			master = recv_fd(console[0]);
			close(console[0]);
			if (master < 0)
				open_tty = 0; /* no terminal came: CREATE failed */
		} else if (p[3].revents && !pump(master, "stdout")) {
			open_tty = 0; /* EIO: the last slave fd is closed */
		}
		if (p[1].revents && !pump(out[0], "stdout"))
			open_out = 0;
		if (p[2].revents && !pump(err[0], "stderr"))
			open_err = 0;
		if (!(p[0].revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof si) > 0)
			;
		int st;
		pid_t pid;
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			if (pid == creator) {
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
					_exit(1);
				creator_done = 1;
				ctr = read_pid(pidfile);
				if (ctr < 0)
					_exit(1);
				if (early_pid == ctr)
					ctr_status = status_code(early_status);
			} else if (creator_done && pid == ctr) {
				ctr_status = status_code(st);
			} else if (!creator_done) {
				/* init's exit may be seen before its parent's */
				early_pid = pid;
				early_status = st;
			}
		}
		if (ctr_status >= 0 && drain_until.tv_sec == 0) {
			/* What is still in the pipes is read; a process that
			 * escaped with them open gets two seconds. */
			clock_gettime(CLOCK_MONOTONIC, &drain_until);
			drain_until.tv_sec += 2;
		}
	}
	close(logfd);
	write_exit(exitfile, ctr_status);
	sigprocmask(SIG_UNBLOCK, &chld, NULL);
	execv(onexit[0], onexit + 1);
	die("exec on-exit command");
	return 1;
}
