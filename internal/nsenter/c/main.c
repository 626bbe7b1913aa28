// hako-init: the program hako starts as a container's init and as the
// process `hako exec` runs. See ../doc.go. It joins namespaces (nsenter)
// and then carries out the plan (plan.c).
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

extern char **environ;

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

// wait_map: with _HAKO_WAIT_MAP, newuidmap writes this process's ID maps
// after clone. It started as an unmapped uid, which execve stripped of
// capabilities; once the parent's byte on the sync socket says the maps
// exist it is uid 0 of the namespace, and executing itself again (the
// sealed memfd, through /proc/self/exe) gives it the namespace's full
// capability set.
static void wait_map(int sync) {
	char b;
	ssize_t r;
	do
		r = read(sync, &b, 1);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		fail(2, "hako-init: waiting for ID maps: %s%s\n", "", errno);
	if (r == 0)
		fail(2, "hako-init: waiting for ID maps: %s%s\n", "the runtime closed the sync socket", 0);
	unsetenv("_HAKO_WAIT_MAP");
	char *argv[] = {"hako-init", NULL};
	execve("/proc/self/exe", argv, environ);
	fail(2, "hako-init: execute itself once the ID maps exist: %s%s\n", "", errno);
}

// handover ends this program's part: it carries out the plan read from
// the sync socket named by _HAKO_PLAN (plan.c) and never returns.
static void handover(void) {
	const char *p = getenv("_HAKO_PLAN");
	if (!p)
		fail(2, "hako-init: started without _HAKO_PLAN%s%s\n", "", 0);
	if (getenv("_HAKO_WAIT_MAP"))
		wait_map(atoi(p));
	hako_plan_main(atoi(p));
}

int main(void) {
	// "hako-init" in ps, not the fd number it was executed as.
	prctl(PR_SET_NAME, "hako-init", 0, 0, 0);
	char *spec = getenv("_HAKO_NSENTER");
	if (!spec)
		handover();
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
	handover();
}
