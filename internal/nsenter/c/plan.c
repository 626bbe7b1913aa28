// plan.c: hako's container init, run before the Go runtime ever starts.
//
// The Go side (internal/initplan) decides everything: which mounts, in what
// order, with which flags, which capabilities, which seccomp program. It
// compiles that into a plan, a flat list of operations over a handful of
// registers (fds), and sends it on the sync socket. This file only carries
// the plan out: one loop, a generic syscall operation and a few compound
// operations where the kernel's answer decides what comes next (create a
// missing mount point, retry a remount keeping locked flags, mask a file or
// a directory). It speaks internal/syncproto's newline-delimited JSON:
// trace events, errors naming the step, and the
// cgroup/hooks/rlimits/ready handshakes.
//
// Why not Go: a second Go runtime start-up per container costs ~2 ms of
// CPU, ~330 page faults and a JSON decode of the spec, all charged to the
// container's memory cgroup; this init touches a few pages (see
// docs/benchmarks.md). It is the only init: the Go init it replaced was
// deleted once the plan expressed every config (docs/design.md).
//
// The wire format is defined once, in internal/initplan/format.go; keep the
// two in step.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/magic.h>
#include <sys/ioctl.h>

#include <link.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 // Linux 5.14; older libc headers lack it
#endif

#include "plan.h"

#define NREGS 64

struct plan_hdr {
	char magic[4];
	uint32_t flags, nops, nsteps, strlen, total;
};

struct plan_op {
	uint16_t code, flags;
	int32_t step, out, nr;
	uint8_t kind[6], pad[2];
	uint64_t a[6];
};

struct plan_step {
	uint32_t name, operands;
};

// The layout internal/initplan/format.go writes (TestWireConstantsMatchC
// checks plan.h's numbers against Go's).
_Static_assert(sizeof(struct plan_hdr) == PLAN_HDR_SIZE, "plan header size");
_Static_assert(sizeof(struct plan_op) == PLAN_OP_SIZE, "plan op size");
_Static_assert(sizeof(struct plan_step) == PLAN_STEP_SIZE, "plan step size");
_Static_assert(offsetof(struct plan_hdr, flags) == 4 && offsetof(struct plan_hdr, total) == 20, "plan header fields");
_Static_assert(offsetof(struct plan_op, flags) == 2 && offsetof(struct plan_op, step) == 4 && offsetof(struct plan_op, out) == 8 &&
		       offsetof(struct plan_op, nr) == 12,
	       "plan op fields");
_Static_assert(offsetof(struct plan_op, kind) == PLAN_OP_KIND_OFFSET, "plan op kinds");
_Static_assert(offsetof(struct plan_op, a) == PLAN_OP_ARG_OFFSET, "plan op arguments");

static struct {
	int sync;
	int trace;
	const struct plan_op *ops;
	const struct plan_step *steps;
	uint32_t nsteps;
	const char *str;
	uint32_t strlen;
	int reg[NREGS];
	char argv0[4096];
	char passwd[16384];
	char msg[8192];
	size_t len;
} vm;

// --- output: JSON lines on the sync socket --------------------------------

static void out_raw(const char *s, size_t n) {
	if (vm.len + n < sizeof(vm.msg)) {
		memcpy(vm.msg + vm.len, s, n);
		vm.len += n;
	}
}

static void out_s(const char *s) { out_raw(s, strlen(s)); }

// out_json appends s as the inside of a JSON string.
static void out_json(const char *s) {
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			out_raw(e, 2);
		} else if (c < 0x20) {
			char e[8];
			snprintf(e, sizeof(e), "\\u%04x", c);
			out_s(e);
		} else {
			out_raw((const char *)&c, 1);
		}
	}
}

static void flush(void) {
	size_t off = 0;
	out_raw("\n", 1);
	while (off < vm.len) {
		// MSG_NOSIGNAL: a runtime that stopped listening (after ready)
		// must not turn init's last words into a SIGPIPE.
		ssize_t n = send(vm.sync, vm.msg + off, vm.len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	vm.len = 0;
}

static const char *S(uint64_t off) { return off < vm.strlen ? vm.str + off : ""; }

static void step_fields(int32_t step, const char *suffix) {
	const char *name = "init", *ops = "";
	if (step >= 0 && (uint32_t)step < vm.nsteps) {
		name = S(vm.steps[step].name);
		ops = S(vm.steps[step].operands);
	}
	out_s("\"step\":\"");
	out_json(name);
	out_s("\",\"operands\":\"");
	out_json(ops);
	out_json(suffix);
	out_s("\"");
}

// fail reports the failed step (errno, and/or a message of its own) and
// exits: init never goes on after an error.
static void __attribute__((noreturn)) fail(int32_t step, int err, const char *msg) {
	vm.len = 0;
	out_s("{\"type\":\"error\",\"err\":{");
	step_fields(step, "");
	out_s(",\"msg\":\"");
	out_json(msg);
	char num[32];
	snprintf(num, sizeof(num), "\",\"errno\":%d}}", err);
	out_s(num);
	flush();
	_exit(1);
}

// fail_stderr writes a failure to stderr when nobody reads the sync socket
// any more: after ready, hako has stopped listening
// (create returned; run went on to wait), and the error would be lost.
static void fail_stderr(int32_t step, int err, const char *msg) {
	const char *name = "init", *ops = "";
	if (step >= 0 && (uint32_t)step < vm.nsteps) {
		name = S(vm.steps[step].name);
		ops = S(vm.steps[step].operands);
	}
	char line[1024];
	int n = snprintf(line, sizeof(line), "hako init: %s %s: %s%s%s\n", name, ops, err ? strerror(err) : "",
			 err && *msg ? ": " : "", msg);
	if (n > 0)
		(void)!write(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static int64_t now_ns(clockid_t c) {
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// trace_event reports a step; err (NULL: it worked) says why it failed.
static void trace_event(int32_t step, int64_t wall, int64_t dur, const char *suffix, const char *err) {
	time_t sec = (time_t)(wall / 1000000000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	char ts[96];
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(wall % 1000000000));
	vm.len = 0;
	out_s("{\"type\":\"trace\",\"event\":{\"who\":\"init\",");
	step_fields(step, suffix);
	char tail[192];
	snprintf(tail, sizeof(tail), ",\"start\":\"%s\",\"at\":0,\"dur\":%lld", ts, (long long)dur);
	out_s(tail);
	if (err) {
		out_s(",\"err\":\"");
		out_json(err);
		out_s("\"");
	}
	out_s("}}");
	flush();
}

// --- input ------------------------------------------------------------------

static int read_full(int fd, void *buf, size_t n) {
	size_t off = 0;
	while (off < n) {
		ssize_t r = read(fd, (char *)buf + off, n - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

// wait_line reads the parent's one-line answer (cgroup-ok, hooks-done, ...).
// The parent sends nothing else until init speaks again, so reading past
// the newline cannot happen.
static int wait_line(void) {
	char buf[512];
	for (;;) {
		ssize_t r = read(vm.sync, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (memchr(buf, '\n', (size_t)r))
			return 0;
	}
}

// --- helpers ----------------------------------------------------------------

static char fdname_buf[6][16];

static const char *fdname(int slot, int fd) {
	snprintf(fdname_buf[slot], sizeof(fdname_buf[slot]), "%d", fd);
	return fdname_buf[slot];
}

static uint64_t arg(const struct plan_op *o, int i) {
	switch (o->kind[i]) {
	case PK_STR:
		return (uint64_t)(uintptr_t)S(o->a[i]);
	case PK_REG:
		return o->a[i] < NREGS ? (uint64_t)(int64_t)vm.reg[o->a[i]] : (uint64_t)-1;
	case PK_FDNAME:
		return (uint64_t)(uintptr_t)fdname(i, o->a[i] < NREGS ? vm.reg[o->a[i]] : -1);
	}
	return o->a[i];
}

static int openat2_(int dirfd, const char *path, uint64_t flags, uint64_t resolve) {
	struct open_how how = {.flags = flags, .mode = 0, .resolve = resolve};
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

// lookup opens an existing path inside the root as O_PATH: symlinks resolve
// as if root were /, ".." stops there, magic links are refused.
// EAGAIN means a rename or mount raced the resolution: try again, as
// pathrs does.
static int lookup(int root, const char *path, uint64_t flags) {
	int fd = -1;
	for (int i = 0; i < 128; i++) {
		fd = openat2_(root, path, O_PATH | O_CLOEXEC | flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd;
}

// dirname_of/basename_of split a path without touching the original.
static void split(const char *path, char *dir, size_t dn, const char **base) {
	const char *slash = strrchr(path, '/');
	if (!slash) {
		snprintf(dir, dn, ".");
		*base = path;
		return;
	}
	size_t n = (size_t)(slash - path);
	if (n == 0)
		n = 1; // "/x" -> "/"
	if (n >= dn)
		n = dn - 1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	*base = slash + 1;
}

// open_dir resolves dir inside the root, creating it and any missing
// parent one component at a time, each looked up again inside the root.
static int open_dir(int root, const char *path, mode_t mode) {
	int fd = lookup(root, path, O_DIRECTORY);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	char buf[4096];
	size_t n = strlen(path);
	if (n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char save = buf[i];
		buf[i] = '\0';
		if (buf[i - 1] != '/') {
			int d = lookup(root, buf, O_DIRECTORY);
			if (d < 0 && errno == ENOENT) {
				char parent[4096];
				const char *base;
				split(buf, parent, sizeof(parent), &base);
				int p = lookup(root, parent, O_DIRECTORY);
				if (p < 0)
					return -1;
				int r = mkdirat(p, base, mode);
				int e = errno;
				close(p);
				if (r < 0 && e != EEXIST) {
					errno = e;
					return -1;
				}
				d = lookup(root, buf, O_DIRECTORY);
			}
			if (d < 0)
				return -1;
			if (save == '\0')
				return d;
			close(d);
		}
		buf[i] = save;
	}
	return lookup(root, path, O_DIRECTORY);
}

// open_file resolves a non-directory inside the root, creating an empty file
// if nothing is there; it never truncates or follows a link out of the root.
static int open_file(int root, const char *path) {
	int fd = lookup(root, path, 0);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	char dir[4096];
	const char *base;
	split(path, dir, sizeof(dir), &base);
	int d = open_dir(root, dir, 0755);
	if (d < 0)
		return -1;
	int f = openat(d, base, O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	int e = errno;
	close(d);
	if (f < 0 && e != EEXIST) {
		errno = e;
		return -1;
	}
	if (f >= 0)
		close(f);
	return lookup(root, path, 0);
}

// locked_flags maps statfs flags to the mount flags a less privileged mount
// namespace may not clear (mount_namespaces(7), "locked mounts").
static unsigned long locked_flags(const char *path) {
	struct statvfs st;
	if (statvfs(path, &st) < 0)
		return 0;
	unsigned long f = 0;
	if (st.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	if (st.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (st.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (st.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (st.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (st.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (st.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

static int remount(const char *path, unsigned long flags) {
	if (mount("", path, "", MS_BIND | MS_REMOUNT | flags, "") == 0)
		return 0;
	if (errno != EPERM)
		return -1;
	return mount("", path, "", MS_BIND | MS_REMOUNT | flags | locked_flags(path), "");
}

static int send_fd(int sock, int fd, const char *payload, size_t len) {
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = {.iov_base = (void *)payload, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) < 0 ? -1 : 0;
}

static int exec_ok(const char *p) {
	struct stat st;
	if (stat(p, &st) < 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		errno = EACCES;
		return -1;
	}
	return access(p, X_OK);
}

// lookpath resolves the program with the container's PATH, as Go's init
// does: a missing program fails create, not the later start.
static int lookpath(const char *name, const char *path, char *msg, size_t mn) {
	if (strchr(name, '/')) {
		snprintf(vm.argv0, sizeof(vm.argv0), "%s", name);
		return exec_ok(name);
	}
	if (!*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	int first = 0;
	const char *p = path;
	for (;;) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		// As Go's filepath.Join(dir, name): "" and "." give the bare
		// name, trailing slashes go (a script's interpreter sees this
		// path as its argument).
		char cand[4096];
		while (n > 1 && p[n - 1] == '/')
			n--;
		if (n == 0 || (n == 1 && p[0] == '.'))
			snprintf(cand, sizeof(cand), "%s", name);
		else if (n == 1 && p[0] == '/')
			snprintf(cand, sizeof(cand), "/%s", name);
		else
			snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, p, name);
		if (exec_ok(cand) == 0) {
			snprintf(vm.argv0, sizeof(vm.argv0), "%s", cand);
			return 0;
		}
		if (!first && errno != ENOENT)
			first = errno;
		if (!end)
			break;
		p = end + 1;
	}
	if (first) {
		errno = first;
		return -1;
	}
	snprintf(msg, mn, "\"%s\" not found in PATH %s", name, path);
	errno = ENOENT;
	return -1;
}

// cloexec_from marks every fd >= first close-on-exec; fd-by-fd when a
// filter loaded earlier denies close_range.
static int cloexec_from(int first) {
	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = first; fd < max && fd < 65536; fd++)
		if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF)
			return -1;
	return 0;
}

// home finds uid's home directory in the container's /etc/passwd.
// (No stdio: its buffers would be new pages, charged to the container.)
static const char *home(unsigned uid, char *buf, size_t n) {
	char *data = vm.passwd;
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "/";
	ssize_t len = read(fd, data, sizeof(vm.passwd) - 1);
	close(fd);
	if (len <= 0)
		return "/";
	data[len] = '\0';
	for (char *line = data, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *fields[7] = {0};
		int k = 0;
		for (char *s = line, *tok; k < 7 && (tok = strsep(&s, ":")); k++)
			fields[k] = tok;
		if (k >= 6 && *fields[2] && strtoul(fields[2], NULL, 10) == uid) {
			snprintf(buf, n, "%s", fields[5]);
			return buf;
		}
	}
	return "/";
}

// vecpool holds the exec's argv and envp vectors: in .bss, which prefault
// populates before init joins the container's cgroup, so that a malloc
// after the join does not charge fresh heap pages to the container (the
// heap is used only for vectors larger than this).
static char *vecpool[4096];
static size_t vecused;

// block splits a NUL-separated block of count strings into a vector.
static char **block(const char *s, uint64_t count, int extra) {
	uint64_t n = count + 1 + (uint64_t)extra;
	char **v;
	if (n <= sizeof(vecpool) / sizeof(vecpool[0]) - vecused) {
		v = &vecpool[vecused];
		vecused += n;
		memset(v, 0, n * sizeof(char *));
	} else if (!(v = calloc(n, sizeof(char *)))) {
		return NULL;
	}
	for (uint64_t i = 0; i < count; i++) {
		v[i] = (char *)s;
		s += strlen(s) + 1;
	}
	return v;
}

// open_attr opens this thread's exec attribute file (an LSM's label for the
// next execve) for writing, through the procfs at /proc: it must be a
// procfs root, and nothing may be mounted anywhere on the path below it
// (RESOLVE_NO_XDEV), so neither the image nor a volume can send the write
// elsewhere (CVE-2019-16884). fallback is tried when path does not exist.
// As lsm.OpenExecAttr in Go.
static int open_attr(const char *path, const char *fallback, char *msg, size_t mn) {
	int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0)
		return -1;
	struct statfs sf;
	struct stat st;
	if (fstatfs(proc, &sf) < 0 || fstat(proc, &st) < 0) {
		close(proc);
		return -1;
	}
	if (sf.f_type != PROC_SUPER_MAGIC || st.st_ino != 1) {
		close(proc);
		snprintf(msg, mn, "/proc is not the root of a procfs: the profile or label would not be applied");
		errno = 0;
		return -1;
	}
	const uint64_t res = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH;
	const char *used = path;
	int fd = openat2_(proc, path, O_WRONLY | O_CLOEXEC, res);
	if (fd < 0 && errno == ENOENT && *fallback) {
		used = fallback;
		fd = openat2_(proc, fallback, O_WRONLY | O_CLOEXEC, res);
	}
	int e = errno;
	close(proc);
	if (fd < 0 && e == EXDEV)
		snprintf(msg, mn, "open /proc/%s: something is mounted over it or its path", used);
	else if (fd < 0)
		snprintf(msg, mn, "open /proc/%s: %s", used, strerror(e));
	errno = e;
	return fd;
}

// --- tmpcopyup: copy a directory's content into the tmpfs mounted over it --

// The copy is runc's (libcontainer's doTmpfsCopyUp, through
// mrunalp/fileutils.CopyDirectory): regular files, directories, symlinks
// and device nodes, each with its owner and mode (chmod after chown, which
// clears set-id bits); fifos are made too, sockets left out (nothing of
// them can be copied). No buffer in init's memory: the bytes move in the
// kernel (copy_file_range, or sendfile between different filesystems).
// Everything is relative to directory fds, never a path through the root.

#define COPY_DEPTH 128

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int copy_data(int in, int out) {
	for (;;) {
		ssize_t n = syscall(SYS_copy_file_range, in, NULL, out, NULL, (size_t)1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0 || errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return -1;
		break;
	}
	for (;;) {
		ssize_t n = sendfile(out, in, NULL, (size_t)1 << 30);
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static int copy_tree(int src, int dst, int depth, char *at);

// close_keep closes fds without losing errno.
static void close_keep(int a, int b) {
	int e = errno;
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	errno = e;
}

static int copy_entry(int src, int dst, const char *name, int depth, char *at) {
	struct stat st;
	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	int r = 0;
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR: {
		if (mkdirat(dst, name, 0700) < 0)
			return -1;
		int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int d = s < 0 ? -1 : openat(dst, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		r = d < 0 ? -1 : copy_tree(s, d, depth + 1, at);
		close_keep(s, d);
		break;
	}
	case S_IFREG: {
		int s = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		int d = s < 0 ? -1 : openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		r = d < 0 ? -1 : copy_data(s, d);
		close_keep(s, d);
		break;
	}
	case S_IFLNK: {
		char target[4096];
		ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return -1;
		target[n] = '\0';
		r = symlinkat(target, dst, name);
		break;
	}
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
		r = mknodat(dst, name, (st.st_mode & S_IFMT) | 0600, st.st_rdev);
		break;
	default:
		return 0;
	}
	if (r < 0 || fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	return S_ISLNK(st.st_mode) ? 0 : fchmodat(dst, name, st.st_mode & 07777, 0);
}

// copy_tree copies src's entries into dst; at (PATH_MAX bytes) holds the
// path being copied, relative to the mount, for the error.
static int copy_tree(int src, int dst, int depth, char *at) {
	if (depth > COPY_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	char buf[2048] __attribute__((aligned(8)));
	for (;;) {
		long n = syscall(SYS_getdents64, src, buf, sizeof(buf));
		if (n <= 0)
			return (int)n;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			size_t n = strlen(at);
			snprintf(at + n, PATH_MAX - n, "/%s", d->d_name);
			if (copy_entry(src, dst, d->d_name, depth, at) < 0)
				return -1;
			at[n] = '\0';
		}
	}
}

// --- the operations ---------------------------------------------------------

static char errmsg[8192];
static const char *suffix;

static int capset_(uint64_t eff, uint64_t perm, uint64_t inh) {
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2] = {
		{.effective = (uint32_t)eff, .permitted = (uint32_t)perm, .inheritable = (uint32_t)inh},
		{.effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(perm >> 32), .inheritable = (uint32_t)(inh >> 32)},
	};
	return (int)syscall(SYS_capset, &h, d);
}

static int setuser(const struct plan_op *o) {
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return -1;
	const uint32_t *g = (const uint32_t *)arg(o, 2);
	uint64_t n = o->a[3];
	gid_t gids[1024];
	for (uint64_t i = 0; i < n && i < 1024; i++)
		gids[i] = g[i];
	if (syscall(SYS_setgroups, n, gids) < 0) {
		if (errno != EPERM || n != 0) {
			if (errno == EPERM)
				snprintf(errmsg, sizeof(errmsg),
					 "additionalGids: setgroups is denied in this user namespace (it was created by an unprivileged user)");
			return -1;
		}
	}
	if (syscall(SYS_setresgid, o->a[1], o->a[1], o->a[1]) < 0) {
		snprintf(errmsg, sizeof(errmsg), "setgid %llu: %s", (unsigned long long)o->a[1], strerror(errno));
		return -1;
	}
	if (syscall(SYS_setresuid, o->a[0], o->a[0], o->a[0]) < 0) {
		snprintf(errmsg, sizeof(errmsg), "setuid %llu: %s", (unsigned long long)o->a[0], strerror(errno));
		return -1;
	}
	return prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
}

// seccomp_load loads the filter; with SECCOMP_FILTER_FLAG_NEW_LISTENER it
// returns the listener fd, which the plan then sends to the agent
// (OP_SEND_FD) and closes.
static long seccomp_load(const struct plan_op *o) {
	struct sock_fprog prog = {.len = (unsigned short)o->a[1], .filter = (struct sock_filter *)arg(o, 0)};
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)o->a[2], &prog);
	if (fd < 0) {
		if (errno == EACCES)
			snprintf(errmsg, sizeof(errmsg), "seccomp(SECCOMP_SET_MODE_FILTER): %s (needs no_new_privs or CAP_SYS_ADMIN)", strerror(errno));
		return -1;
	}
	return (o->a[2] & SECCOMP_FILTER_FLAG_NEW_LISTENER) ? fd : 0;
}

// --- hooks (createContainer, startContainer) ---------------------------------

// hookout is what a failed hook printed (stdout and stderr), for the error:
// static, so that prefault has touched it before init joins its cgroup.
static char hookout[4096];

// skip returns the string after the next n in a NUL-separated block.
static const char *skip(const char *s, uint64_t n) {
	for (uint64_t i = 0; i < n; i++)
		s += strlen(s) + 1;
	return s;
}

// hook_child becomes the hook: the state on stdin, the output pipe as
// stdout and stderr, nothing else open across execve (the rest of init's
// fds, preserved ones included, are marked close-on-exec). An execve
// failure goes back as errno on errp.
static void __attribute__((noreturn)) hook_child(int in, int out, int errp, const char *path, char **argv, char **envp) {
	int e = 0;
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 || cloexec_from(3) < 0)
		e = errno;
	else {
		execve(path, argv, envp);
		e = errno;
	}
	(void)!write(errp, &e, sizeof(e));
	_exit(127);
}

// hook_wait collects the hook's output until it exits or the deadline
// (CLOCK_MONOTONIC ns, 0: none) passes; 1 on a timeout.
static int hook_wait(int pidfd, int out, int64_t deadline, size_t *n) {
	struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = out, .events = POLLIN}};
	for (;;) {
		int ms = -1;
		if (deadline) {
			int64_t left = deadline - now_ns(CLOCK_MONOTONIC);
			if (left <= 0)
				return 1;
			ms = left / 1000000 > 86400000 ? 86400000 : (int)(left / 1000000) + 1;
		}
		int r = poll(p, 2, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (p[1].revents) {
			char scratch[512];
			char *dst = *n < sizeof(hookout) - 1 ? hookout + *n : scratch;
			size_t room = *n < sizeof(hookout) - 1 ? sizeof(hookout) - 1 - *n : sizeof(scratch);
			ssize_t k = read(out, dst, room);
			if (k > 0 && dst == hookout + *n)
				*n += (size_t)k;
			if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
				p[1].fd = -1; // EOF: the hook (and whatever it started) closed it
		}
		if (p[0].revents)
			return 0;
	}
}

// hook_result turns the hook's wait status and output into the error the
// runtime's own hooks give (internal/hooks): "exit status N" or "signal:
// S", then what it printed.
static int hook_result(int status, size_t n) {
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	while (n > 0 && strchr(" \t\r\n", hookout[n - 1]))
		n--;
	hookout[n] = '\0';
	const char *o = hookout;
	while (*o && strchr(" \t\r\n", *o))
		o++;
	int k;
	if (WIFSIGNALED(status)) {
		char sig[64];
		snprintf(sig, sizeof(sig), "%s", strsignal(WTERMSIG(status)));
		for (char *c = sig; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		k = snprintf(errmsg, sizeof(errmsg), "signal: %s", sig);
	} else {
		k = snprintf(errmsg, sizeof(errmsg), "exit status %d", WEXITSTATUS(status));
	}
	if (*o && k > 0 && (size_t)k < sizeof(errmsg))
		snprintf(errmsg + k, sizeof(errmsg) - (size_t)k, ": %s", o);
	errno = 0;
	return -1;
}

// hook_spawn starts the hook with the state JSON (len bytes) on its stdin;
// its stdout and stderr go to *out (non-blocking read end). -1 with errno
// (and errmsg) when it could not start.
static pid_t hook_spawn(const char *path, char **argv, char **envp, const char *state, size_t len, int *out) {
	int in[2], o[2], errp[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(o, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		return -1;
	// The whole state is in the pipe before the hook runs: init never
	// blocks on a hook that does not read it, nor gets SIGPIPE from one
	// that exits first.
	if ((len > 65536 && fcntl(in[1], F_SETPIPE_SZ, (int)len) < 0) || write(in[1], state, len) != (ssize_t)len)
		return -1;
	close(in[1]);
	fcntl(o[0], F_SETFL, O_NONBLOCK);
	pid_t pid = fork();
	if (pid == 0)
		hook_child(in[0], o[1], errp[1], path, argv, envp);
	int fe = errno, e = 0;
	close(in[0]);
	close(o[1]);
	close(errp[1]);
	if (pid < 0) {
		errno = fe;
		return -1;
	}
	// EOF (close-on-exec) once the hook runs; its errno if it could not.
	ssize_t k;
	do
		k = read(errp[0], &e, sizeof(e));
	while (k < 0 && errno == EINTR);
	close(errp[0]);
	if (k == sizeof(e)) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		close(o[0]);
		snprintf(errmsg, sizeof(errmsg), "exec %s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	*out = o[0];
	return pid;
}

// run_hook runs a createContainer or startContainer hook where init is at
// that point of the plan (its namespaces, root, working directory and
// credentials), as runc's init does: a0 is a NUL-separated block of the
// path, a1 arguments and a2 environment entries; a3/a4 the state JSON,
// written to its stdin; a5 the timeout in seconds (0: none), at which it
// is killed (SIGKILL, as Go's exec.CommandContext).
static int run_hook(const struct plan_op *o) {
	const char *path = (const char *)arg(o, 0), *args = skip(path, 1);
	char **argv = block(args, o->a[1], 0), **envp = block(skip(args, o->a[1]), o->a[2], 0);
	int out;
	if (!argv || !envp)
		return -1;
	pid_t pid = hook_spawn(path, argv, envp, (const char *)arg(o, 3), o->a[4], &out);
	if (pid < 0)
		return -1;
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), e = 0, status = 0;
	int64_t deadline = o->a[5] ? now_ns(CLOCK_MONOTONIC) + (int64_t)o->a[5] * 1000000000 : 0;
	size_t n = 0;
	int waited = pidfd < 0 ? -1 : hook_wait(pidfd, out, deadline, &n);
	if (waited) {
		e = errno;
		kill(pid, SIGKILL);
	}
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	// What it wrote just before exiting (not what a process it left
	// behind writes later: the read end is non-blocking).
	ssize_t k;
	while (!waited && n < sizeof(hookout) - 1 && (k = read(out, hookout + n, sizeof(hookout) - 1 - n)) > 0)
		n += (size_t)k;
	close(out);
	if (waited == 1) {
		snprintf(errmsg, sizeof(errmsg), "timed out after %llus", (unsigned long long)o->a[5]);
		errno = 0;
		return -1;
	}
	if (waited < 0) {
		errno = e;
		return -1;
	}
	return hook_result(status, n);
}

// op_copy_tree is OP_COPY_TREE, its path buffer on the stack (prefaulted)
// rather than in .bss, which every container's init populates whole.
static int __attribute__((noinline)) op_copy_tree(int src, int dst) {
	char at[PATH_MAX] = "";
	if (copy_tree(src, dst, 0, at) == 0)
		return 0;
	snprintf(errmsg, sizeof(errmsg), "copy .%s into the tmpfs: %s", at, strerror(errno));
	return -1;
}

// run performs one operation; -1 with errno (and maybe errmsg) on failure.
static long run(const struct plan_op *o) {
	errmsg[0] = '\0';
	suffix = "";
	switch (o->code) {
	case OP_SYSCALL:
		return syscall(o->nr, arg(o, 0), arg(o, 1), arg(o, 2), arg(o, 3), arg(o, 4), arg(o, 5));
	case OP_LOOKUP:
		return lookup((int)arg(o, 0), (const char *)arg(o, 1), o->a[2]);
	case OP_OPEN_DIR:
		return open_dir((int)arg(o, 0), (const char *)arg(o, 1), (mode_t)o->a[2]);
	case OP_OPEN_FILE:
		return open_file((int)arg(o, 0), (const char *)arg(o, 1));
	case OP_CHECK_REAL: {
		char got[4096];
		ssize_t n = readlink(fdname(0, (int)arg(o, 0)), got, sizeof(got) - 1);
		if (n < 0)
			return -1;
		got[n] = '\0';
		if (strcmp(got, (const char *)arg(o, 1)) == 0)
			return 0;
		const char *root = (const char *)arg(o, 4), *in = got;
		size_t rl = strlen(root);
		if (strncmp(got, root, rl) == 0 && (got[rl] == '/' || got[rl] == '\0'))
			in = got[rl] ? got + rl : "/";
		else
			in = "";
		snprintf(errmsg, sizeof(errmsg), "%s is a symlink to %s: %s must be mounted on a real directory",
			 (const char *)arg(o, 2), in, (const char *)arg(o, 3));
		errno = 0;
		return -1;
	}
	case OP_REMOUNT:
		return remount((const char *)arg(o, 0), o->a[1]);
	case OP_OPEN_NULL: {
		int fd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0)
			return -1;
		if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3) {
			snprintf(errmsg, sizeof(errmsg), "/dev/null is not the null device (char 1:3)");
			errno = 0;
			return -1;
		}
		return fd;
	}
	case OP_MASK: {
		int t = open((const char *)arg(o, 0), O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (t < 0)
			return errno == ENOENT ? 1 : -1; // 1: nothing there, no event
		struct stat st;
		if (fstat(t, &st) < 0)
			return -1;
		int r;
		if (S_ISDIR(st.st_mode)) {
			suffix = " (empty read-only tmpfs)";
			r = mount("tmpfs", fdname(1, t), "tmpfs", MS_RDONLY, (const char *)arg(o, 2));
		} else {
			suffix = " (bind /dev/null)";
			r = mount(fdname(2, (int)arg(o, 1)), fdname(1, t), "", MS_BIND, "");
		}
		int e = errno;
		close(t);
		errno = e;
		return r;
	}
	case OP_READONLY: {
		const char *p = (const char *)arg(o, 0);
		int t = open(p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (t < 0)
			return errno == ENOENT ? 1 : -1;
		int r = mount(fdname(1, t), fdname(1, t), "", MS_BIND | MS_REC, "");
		close(t);
		if (r < 0)
			return -1;
		t = open(p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (t < 0)
			return -1;
		r = remount(fdname(1, t), MS_RDONLY | MS_REC);
		int e = errno;
		close(t);
		errno = e;
		return r;
	}
	case OP_SYMLINK: {
		int d = (int)arg(o, 0);
		const char *target = (const char *)arg(o, 1), *base = (const char *)arg(o, 2);
		int r = symlinkat(target, d, base);
		if (r < 0 && errno == EEXIST && unlinkat(d, base, 0) == 0)
			r = symlinkat(target, d, base);
		return r;
	}
	case OP_MKNOD: {
		int d = (int)arg(o, 0);
		const char *base = (const char *)arg(o, 1);
		int r = mknodat(d, base, (mode_t)o->a[2], (dev_t)o->a[3]);
		if (r < 0 && errno == EEXIST && unlinkat(d, base, 0) == 0)
			r = mknodat(d, base, (mode_t)o->a[2], (dev_t)o->a[3]);
		if (r < 0)
			return -1;
		return fchownat(d, base, (uid_t)o->a[4], (gid_t)o->a[5], AT_SYMLINK_NOFOLLOW);
	}
	case OP_WRITE_FILE: {
		int fd = open((const char *)arg(o, 0), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -1;
		ssize_t n = write(fd, (const char *)arg(o, 1), o->a[2]);
		int e = errno;
		close(fd);
		errno = e;
		return n < 0 ? -1 : 0;
	}
	case OP_SEND:
		vm.len = 0;
		out_raw((const char *)arg(o, 0), o->a[1]);
		flush();
		return 0;
	case OP_WAIT:
		if (wait_line() < 0) {
			snprintf(errmsg, sizeof(errmsg), "the runtime closed the sync socket");
			errno = 0;
			return -1;
		}
		return 0;
	case OP_OPENPTY: {
		int m;
		if (o->a[2]) {
			// exec: the container's own /dev/pts/ptmx, which must really
			// be a pty multiplexer (char 5:2), or the container could hand
			// hako something else.
			struct stat st;
			m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
			if (m < 0)
				return -1;
			if (fstat(m, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2) {
				snprintf(errmsg, sizeof(errmsg), "/dev/pts/ptmx in the container is not a pty multiplexer (char 5:2)");
				errno = 0;
				return -1;
			}
		} else {
			int h = lookup((int)arg(o, 0), "/dev/pts/ptmx", 0);
			if (h < 0) {
				snprintf(errmsg, sizeof(errmsg), "open /dev/pts/ptmx in rootfs (is devpts mounted?): %s", strerror(errno));
				return -1;
			}
			m = openat((int)arg(o, 1), fdname(0, h), O_RDWR | O_NOCTTY | O_CLOEXEC);
			close(h);
			if (m < 0)
				return -1;
		}
		int unlock = 0;
		if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
			return -1;
		int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (peer < 0)
			return -1;
		if (o->out >= 0 && o->out + 1 < NREGS)
			vm.reg[o->out + 1] = peer;
		return m;
	}
	case OP_SEND_FD:
		return send_fd((int)arg(o, 0), (int)arg(o, 1), (const char *)arg(o, 2), o->a[3]);
	case OP_USE_CONSOLE: {
		int pts = (int)arg(o, 0);
		for (int fd = 0; fd < 3; fd++)
			if (dup3(pts, fd, 0) < 0)
				return -1;
		if (ioctl(0, TIOCSCTTY, 0) < 0)
			return -1;
		return close(pts);
	}
	case OP_PIVOT: {
		int old = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		if (old < 0 || fchdir((int)arg(o, 0)) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || fchdir(old) < 0 ||
		    mount("", ".", "", MS_SLAVE | MS_REC, "") < 0 || umount2(".", MNT_DETACH) < 0)
			return -1;
		close(old);
		return chdir("/");
	}
	case OP_MOVE_CHROOT:
		if (fchdir((int)arg(o, 0)) < 0 || mount(".", "/", "", MS_MOVE, "") < 0 || chroot(".") < 0)
			return -1;
		return chdir("/");
	case OP_CHDIR_CHECK: {
		const char *cwd = (const char *)arg(o, 0);
		if (chdir(cwd) < 0)
			return -1;
		char wd[4096];
		if (!getcwd(wd, sizeof(wd)) || wd[0] != '/') {
			snprintf(errmsg, sizeof(errmsg), "working directory \"%s\" is outside the container's root", cwd);
			errno = 0;
			return -1;
		}
		return 0;
	}
	case OP_BOUNDING:
		for (uint64_t c = 0; c <= o->a[1] && c < 64; c++)
			if (!(o->a[0] & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
				return -1;
		return 0;
	case OP_CAPSET:
		return capset_(o->a[0], o->a[1], o->a[2]);
	case OP_AMBIENT:
		// The kernel raises an ambient capability only if it is permitted
		// and inheritable; as runc, a refusal is not fatal.
		for (uint64_t c = 0; c < 64; c++)
			if (o->a[0] & (1ULL << c))
				prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
		return 0;
	case OP_SETUSER:
		return setuser(o);
	case OP_SECCOMP:
		return seccomp_load(o);
	case OP_LOOKPATH:
		return lookpath((const char *)arg(o, 0), (const char *)arg(o, 1), errmsg, sizeof(errmsg));
	case OP_FIFO_WAIT: {
		int fd = openat((int)arg(o, 0), fdname(0, (int)o->a[1]), O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		close((int)o->a[1]);
		char zero = 0;
		return write(fd, &zero, 1) == 1 ? 0 : -1; // fd stays open until execve
	}
	case OP_CLOEXEC_FROM:
		return cloexec_from((int)o->a[0]);
	case OP_EXEC: {
		char **argv = block((const char *)arg(o, 0), o->a[1], 0);
		char **envp = block((const char *)arg(o, 2), o->a[3], 1);
		if (!argv || !envp)
			return -1;
		char hbuf[1024], hvar[1100];
		if ((int64_t)o->a[4] >= 0) {
			snprintf(hvar, sizeof(hvar), "HOME=%s", home((unsigned)o->a[4], hbuf, sizeof(hbuf)));
			envp[o->a[3]] = hvar;
		}
		execve(vm.argv0, argv, envp);
		return -1;
	}
	case OP_OPEN_ATTR:
		return open_attr((const char *)arg(o, 0), (const char *)arg(o, 1), errmsg, sizeof(errmsg));
	case OP_HOOK:
		return run_hook(o);
	case OP_COPY_TREE:
		return op_copy_tree((int)arg(o, 0), (int)arg(o, 1));
	}
	snprintf(errmsg, sizeof(errmsg), "unknown plan operation %u", o->code);
	errno = 0;
	return -1;
}

// prefault touches the scratch memory init will use (its stack, down to
// what the deepest operation needs, and its buffers) before it joins the
// container's cgroup, so the container's memory limit is charged for the
// container, not for init's working space, which execve discards anyway.
//
// The writable segment (.data and .bss: the vm state, the buffers, libc's
// own) is populated whole: a page first written after the join would be
// charged to the container, and which pages those are depends on the
// plan, which made the smallest working memory limit vary from run to run
// (OOM kills of hako-init at 170-190 KiB in 10% of runs, with 128 KiB of
// anonymous memory in the kill report).
static int populate_rw(struct dl_phdr_info *info, size_t size, void *data) {
	(void)size;
	(void)data;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
			continue;
		uintptr_t start = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)4095;
		uintptr_t end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + 4095) & ~(uintptr_t)4095;
		if (madvise((void *)start, end - start, MADV_POPULATE_WRITE) < 0) {
			// Before Linux 5.14: write each page's first byte back.
			for (uintptr_t a = start; a < end; a += 4096) {
				volatile char *c = (volatile char *)a;
				*c = *c;
			}
		}
	}
	return 1; // the executable only
}

static void __attribute__((noinline)) prefault(void) {
	volatile char stack[96 << 10];
	for (size_t i = 0; i < sizeof(stack); i += 4096)
		stack[i] = 0;
	dl_iterate_phdr(populate_rw, NULL);
}

void hako_plan_main(int sync) {
	prefault();
	vm.sync = sync;
	for (int i = 0; i < NREGS; i++)
		vm.reg[i] = -1;
	// Non-dumpable until execve (CVE-2016-9962), a session of its own (for
	// the controlling terminal), exact modes for the nodes it creates.
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setsid();
	umask(0);
	struct plan_hdr h;
	if (read_full(sync, &h, sizeof(h)) < 0 || memcmp(h.magic, PLAN_MAGIC, 4) != 0 || h.total < sizeof(h))
		fail(-1, 0, "read the init plan: bad header");
	char *buf = malloc(h.total);
	if (!buf || read_full(sync, buf + sizeof(h), h.total - sizeof(h)) < 0)
		fail(-1, errno, "read the init plan");
	size_t off = sizeof(h);
	vm.ops = (const struct plan_op *)(buf + off);
	off += (size_t)h.nops * sizeof(struct plan_op);
	vm.steps = (const struct plan_step *)(buf + off);
	vm.nsteps = h.nsteps;
	off += (size_t)h.nsteps * sizeof(struct plan_step);
	vm.str = buf + off;
	vm.strlen = h.strlen;
	if (off + h.strlen != h.total)
		fail(-1, 0, "read the init plan: bad length");
	vm.trace = h.flags & PLAN_TRACE;
	for (uint32_t i = 0; i < h.nops; i++) {
		const struct plan_op *o = &vm.ops[i];
		int64_t t0 = 0, w0 = 0;
		int traced = vm.trace && (o->flags & PF_TRACE);
		if (traced) {
			t0 = now_ns(CLOCK_MONOTONIC);
			w0 = now_ns(CLOCK_REALTIME);
		}
		if (o->code == OP_EXEC && traced) {
			trace_event(o->step, w0, 0, "", NULL);
			traced = 0;
		}
		if (o->code == OP_SKIP_UNLESS) {
			if (o->a[2] > h.nops - i - 1)
				fail(o->step, 0, "plan: skip past the end");
			if ((int64_t)arg(o, 0) != (int64_t)o->a[1])
				i += (uint32_t)o->a[2];
			continue;
		}
		long r = run(o);
		int e = r < 0 ? errno : 0;
		if (r < 0 && e == EPERM && (o->flags & PF_OK_EPERM)) {
			// An answer the plan goes on from (OP_SKIP_UNLESS).
			if (traced)
				trace_event(o->step, w0, now_ns(CLOCK_MONOTONIC) - t0, suffix, strerror(e));
			if (o->out >= 0 && o->out < NREGS)
				vm.reg[o->out] = -EPERM;
			continue;
		}
		if (r < 0 && ((e == EEXIST && (o->flags & PF_OK_EEXIST)) || (e == ENOENT && (o->flags & PF_OK_ENOENT))))
			r = 0, e = 0;
		if (traced && !(r == 1 && (o->code == OP_MASK || o->code == OP_READONLY)))
			trace_event(o->step, w0, now_ns(CLOCK_MONOTONIC) - t0, suffix,
				    r < 0 ? (*errmsg ? errmsg : strerror(e ? e : EINVAL)) : NULL);
		if (r < 0 && (o->flags & PF_LATE))
			fail_stderr(o->step, e, errmsg);
		if (r < 0)
			fail(o->step, e, errmsg);
		if (o->out >= 0 && o->out < NREGS)
			vm.reg[o->out] = (int)r;
	}
	fail(-1, 0, "the init plan ended without exec");
}
