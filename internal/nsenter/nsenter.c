// See doc.go. Keep this file small: every line runs in every hako process.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

#include "plan.h"

#define MAX_NS 10

struct ns {
	int type; // CLONE_NEW*
	int fd;
	const char *path;
};

// report writes one line to the parent's pipe; errors are final.
static void report(int pipe, const char *fmt, const char *a, int err) {
	char buf[512];
	int n = snprintf(buf, sizeof(buf), fmt, a, err ? strerror(err) : "");
	if (n > 0 && pipe >= 0)
		(void)!write(pipe, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void fail(int pipe, const char *fmt, const char *a, int err) {
	report(pipe, fmt, a, err);
	_exit(1);
}

static int nstype(const char *name) {
	static const struct { const char *name; int type; } t[] = {
		{"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
		{"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP},
		{"time", CLONE_NEWTIME}, {"mnt", CLONE_NEWNS},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(name, t[i].name) == 0)
			return t[i].type;
	return 0;
}

// parse reads "user:/proc/1/ns/user,mnt:/proc/1/ns/mnt,..." (in the order to
// join: the Go side sorts it) and opens each path.
static int parse(char *spec, struct ns *out, int pipe) {
	int n = 0;
	for (char *tok = strtok(spec, ","); tok && n < MAX_NS; tok = strtok(NULL, ",")) {
		char *colon = strchr(tok, ':');
		if (!colon)
			fail(pipe, "error nsenter: bad entry %s%s\n", tok, 0);
		*colon = '\0';
		out[n].type = nstype(tok);
		out[n].path = colon + 1;
		if (!out[n].type)
			fail(pipe, "error nsenter: unknown namespace type %s%s\n", tok, 0);
		out[n].fd = open(out[n].path, O_RDONLY | O_CLOEXEC);
		if (out[n].fd < 0)
			fail(pipe, "error nsenter: open %s: %s\n", out[n].path, errno);
		n++;
	}
	return n;
}

// become_root makes the process uid/gid 0 of the user namespace it just
// joined: its host ids are usually not mapped there, and files it creates
// or an execve would otherwise happen as the overflow id. setns(2) gave it
// every capability in the namespace, which setresuid to 0 keeps.
static void become_root(int pipe) {
	if (setresgid(0, 0, 0) < 0)
		fail(pipe, "error nsenter: setresgid 0 in the joined user namespace: %s%s\n", "", errno);
	if (setresuid(0, 0, 0) < 0)
		fail(pipe, "error nsenter: setresuid 0 in the joined user namespace: %s%s\n", "", errno);
}

// start_plan hands over to the plan executor (plan.c) when the parent asked
// for it: init then never reaches the Go runtime.
static void start_plan(void) {
	const char *p = getenv("_HAKO_PLAN");
	if (p)
		hako_plan_main(atoi(p));
}

// hako_timerslack is the timer slack hako was started with (nanoseconds);
// see slack_for_runtime.
long hako_timerslack = -1;

// slack_for_runtime gives the CLI's threads 1 ms of timer slack before the
// Go runtime creates any of them (they inherit it). The runtime's sysmon
// thread polls every 20 us while a goroutine sits in a syscall, so a hako
// process blocked on cgroup or mount locks wakes up hundreds of times; with
// 50 containers starting at once that was ~12% of the wall time (measured,
// docs/benchmarks.md). hako itself has no timer that needs better than 1 ms.
// Whatever hako starts gets the original value back: the plan executor and
// the Go init set it before executing the container's program, hooks run
// from a thread that restored it.
static void slack_for_runtime(void) {
	hako_timerslack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (hako_timerslack >= 0 && hako_timerslack < 1000000)
		prctl(PR_SET_TIMERSLACK, 1000000, 0, 0, 0);
}

__attribute__((constructor)) static void hako_nsenter(void) {
	char *spec = getenv("_HAKO_NSENTER");
	if (!spec && !getenv("_HAKO_PLAN"))
		slack_for_runtime();
	if (!spec) {
		start_plan();
		return;
	}
	// Non-dumpable before joining: the container's processes must not
	// ptrace or read a process that still holds host fds (CVE-2016-9962).
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	const char *p = getenv("_HAKO_NSENTER_PIPE");
	int pipe = p ? atoi(p) : -1;
	const char *u = getenv("_HAKO_NSENTER_UNSHARE");
	int unshare_flags = u ? atoi(u) : 0;
	struct ns ns[MAX_NS];
	int n = parse(spec, ns, pipe), joined_pid = 0;
	for (int i = 0; i < n; i++) {
		if (setns(ns[i].fd, ns[i].type) < 0)
			fail(pipe, "error nsenter: setns %s: %s\n", ns[i].path, errno);
		close(ns[i].fd);
		joined_pid |= ns[i].type == CLONE_NEWPID;
		if (ns[i].type == CLONE_NEWUSER)
			become_root(pipe);
	}
	// New namespaces after the joined ones, so a joined user namespace
	// owns them (create with linux.namespaces[user].path).
	if (unshare_flags && unshare(unshare_flags) < 0)
		fail(pipe, "error nsenter: unshare %s: %s\n", u, errno);
	unsetenv("_HAKO_NSENTER");
	unsetenv("_HAKO_NSENTER_PIPE");
	unsetenv("_HAKO_NSENTER_UNSHARE");
	if (joined_pid || (unshare_flags & CLONE_NEWPID)) {
		pid_t child = fork();
		if (child < 0)
			fail(pipe, "error nsenter: fork into the pid namespace: %s%s\n", "", errno);
		if (child > 0) {
			char num[32];
			snprintf(num, sizeof(num), "%d", child);
			report(pipe, "pid %s%s\n", num, 0);
			_exit(0);
		}
	} else {
		char num[32];
		snprintf(num, sizeof(num), "%d", getpid());
		report(pipe, "pid %s%s\n", num, 0);
	}
	if (pipe >= 0)
		close(pipe);
	start_plan();
}
