// plan.h: the init plan's wire constants. internal/initplan/format.go
// defines the same values for the Go side; keep the two in step.
#ifndef HAKO_PLAN_H
#define HAKO_PLAN_H

#define PLAN_MAGIC "HKP1"
#define PLAN_TRACE 1

// wire layout: sizes and field offsets (format.go's hdrSize, opSize,
// stepSize, opKindOffset, opArgOffset); plan.c asserts its structs match.
#define PLAN_HDR_SIZE 24
#define PLAN_OP_SIZE 72
#define PLAN_STEP_SIZE 8
#define PLAN_OP_KIND_OFFSET 16
#define PLAN_OP_ARG_OFFSET 24

// argument kinds
enum { PK_IMM = 0, PK_STR = 1, PK_REG = 2, PK_FDNAME = 3 };

// op flags
// PF_LATE: after ready, when the runtime may no longer listen: a failure
// is also written to stderr.
enum { PF_TRACE = 1, PF_OK_EEXIST = 2, PF_OK_ENOENT = 4, PF_LATE = 8 };
// PF_OK_EPERM: EPERM is an answer, not a failure: the op's out register
// gets -EPERM (and a traced op still shows the error), so that an
// OP_SKIP_UNLESS can run a fallback (sysfs in a user namespace).
// Numbered from 256 on, apart from the flags above.
enum { PF_OK_EPERM = 256 };

// operations
enum {
	OP_SYSCALL = 1,
	OP_LOOKUP,
	OP_OPEN_DIR,
	OP_OPEN_FILE,
	OP_CHECK_REAL,
	OP_REMOUNT,
	OP_OPEN_NULL,
	OP_MASK,
	OP_READONLY,
	OP_SYMLINK,
	OP_MKNOD,
	OP_WRITE_FILE,
	OP_SEND,
	OP_WAIT,
	OP_OPENPTY,
	OP_SEND_FD,
	OP_USE_CONSOLE,
	OP_PIVOT,
	OP_MOVE_CHROOT,
	OP_CHDIR_CHECK,
	OP_BOUNDING,
	OP_CAPSET,
	OP_AMBIENT,
	OP_SETUSER,
	OP_SECCOMP,
	OP_LOOKPATH,
	OP_FIFO_WAIT,
	OP_CLOEXEC_FROM,
	OP_EXEC,
	OP_OPEN_ATTR,
	// Numbered explicitly from here on, so that ops added on parallel
	// branches cannot collide (48..63: the process side of issue 15,
	// 64..: its mount side).
	OP_HOOK = 48,
};

// The mount-side operations of issue 15 ("one init"), numbered explicitly
// from 64 so that operations added elsewhere meanwhile (from 48) cannot
// collide with them.
enum {
	// OP_SKIP_UNLESS: skip the next a[2] operations unless register a[0]
	// holds a[1] (e.g. -EPERM from a PF_OK_EPERM operation).
	OP_SKIP_UNLESS = 64,
	// OP_COPY_TREE: copy the content of directory a[0] (an fd) into
	// directory a[1] (tmpcopyup): files, directories, symlinks, device
	// nodes and fifos, with their owners and modes.
	OP_COPY_TREE = 65,
};

void hako_plan_main(int sync) __attribute__((noreturn));

#endif
