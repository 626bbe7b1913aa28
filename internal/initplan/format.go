package initplan

import (
	"encoding/binary"
)

// The wire format, shared with internal/nsenter/c/plan.h and plan.c:
//
//	header   magic "HKP1", u32 flags, nops, nsteps, strlen, total
//	ops      nops x 72 bytes: u16 code, u16 flags, i32 step, i32 out,
//	         i32 nr, u8 kind[6], u8 pad[2], u64 a[6]
//	steps    nsteps x (u32 name, u32 operands): offsets into strings
//	strings  NUL-terminated strings and binary blobs
//
// All little-endian (native: the plan never leaves the machine).
const magic = "HKP1"

const flagTrace = 1

// Argument kinds.
const (
	kImm    = 0
	kStr    = 1 // offset into the string table; the VM passes a pointer
	kReg    = 2 // register number; the VM passes the fd it holds
	kFdName = 3 // register number; the VM passes "N" (relative to the host's /proc/self/fd)
)

// Op flags.
const (
	fTrace    = 1
	fOkEexist = 2
	fOkEnoent = 4
	fLate     = 8 // after ready: a failure also goes to stderr
	// fOkEperm: EPERM is an answer: the out register gets -EPERM (see
	// opSkipUnless). Apart from the flags above (plan.h's PF_OK_EPERM).
	fOkEperm = 0x100
)

// Operations (plan.h's enum, same order).
const (
	opSyscall = iota + 1
	opLookup
	opOpenDir
	opOpenFile
	opCheckReal
	opRemount
	opOpenNull
	opMask
	opReadonly
	opSymlink
	opMknod
	opWriteFile
	opSend
	opWait
	opOpenpty
	opSendFd
	opUseConsole
	opPivot
	opMoveChroot
	opChdirCheck
	opBounding
	opCapset
	opAmbient
	opSetuser
	opSeccomp
	opLookpath
	opFifoWait
	opCloexecFrom
	opExec
	opOpenAttr
)

// Operations numbered explicitly (plan.h's too), so that ops added on
// parallel branches cannot collide: 48..63 the process side of issue 15,
// 64.. its mount side.
const (
	// opHook runs a createContainer or startContainer hook: fork, exec
	// with the state JSON on stdin, kill at the timeout.
	opHook = 48
	// opSkipUnless skips the next a[2] operations unless register a[0]
	// holds a[1].
	opSkipUnless = 64
	// opCopyTree copies directory a[0]'s content into directory a[1]
	// (tmpcopyup).
	opCopyTree = 65
)

// The layout, asserted on the C side (_Static_assert in plan.c, against
// plan.h's PLAN_*_SIZE and PLAN_OP_*_OFFSET, which TestWireConstantsMatchC
// compares with these).
const (
	hdrSize      = 24
	opSize       = 72
	stepSize     = 8
	opKindOffset = 16 // u8 kind[6]
	opArgOffset  = 24 // u64 a[6]
)

type arg struct {
	kind uint8
	v    uint64
}

type op struct {
	code, flags uint16
	step, out   int32
	nr          int32
	args        [6]arg
}

type step struct {
	name, operands uint32
}

// Bytes encodes the plan for init, whose pid as the host sees it (known
// once it is cloned) goes into the state JSON hooks and a seccomp agent get
// (see kLate).
func (p *Plan) Bytes(pid int) []byte {
	ops, str := p.withLate(pid)
	total := hdrSize + len(ops)*opSize + len(p.steps)*stepSize + len(str)
	b := make([]byte, total)
	le := binary.LittleEndian
	copy(b, magic)
	var flags uint32
	if p.trace {
		flags |= flagTrace
	}
	le.PutUint32(b[4:], flags)
	le.PutUint32(b[8:], uint32(len(ops)))
	le.PutUint32(b[12:], uint32(len(p.steps)))
	le.PutUint32(b[16:], uint32(len(str)))
	le.PutUint32(b[20:], uint32(total))
	off := hdrSize
	for _, o := range ops {
		w := b[off : off+opSize]
		le.PutUint16(w[0:], o.code)
		le.PutUint16(w[2:], o.flags)
		le.PutUint32(w[4:], uint32(o.step))
		le.PutUint32(w[8:], uint32(o.out))
		le.PutUint32(w[12:], uint32(o.nr))
		for i, a := range o.args {
			w[opKindOffset+i] = a.kind
			le.PutUint64(w[opArgOffset+8*i:], a.v)
		}
		off += opSize
	}
	for _, s := range p.steps {
		le.PutUint32(b[off:], s.name)
		le.PutUint32(b[off+4:], s.operands)
		off += stepSize
	}
	copy(b[off:], str)
	return b
}

// withLate returns the ops and strings with the late strings rendered for
// pid (the plan itself unchanged: the same plan may be sent again).
func (p *Plan) withLate(pid int) ([]op, []byte) {
	if len(p.late) == 0 {
		return p.ops, p.str
	}
	str := append([]byte(nil), p.str...)
	at := make([]arg, len(p.late))
	n := make([]arg, len(p.late))
	for i, render := range p.late {
		b := render(pid)
		at[i], n[i] = arg{kStr, uint64(len(str))}, imm(uint64(len(b)))
		str = append(append(str, b...), 0)
	}
	ops := append([]op(nil), p.ops...)
	for i := range ops {
		for j, a := range ops[i].args {
			if a.kind == kLate {
				ops[i].args[j], ops[i].args[j+1] = at[a.v], n[a.v]
			}
		}
	}
	return ops, str
}
