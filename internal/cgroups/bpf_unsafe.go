package cgroups

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The bpf(2) commands the device filter needs. Each passes its member of
// union bpf_attr (include/uapi/linux/bpf.h), laid out here by hand up to
// the last field hako sets or the kernel writes back; the kernel reads a
// shorter attr as zero-filled.

// pinned returns p for an __aligned_u64 pointer field, having pinned what it
// points to: the kernel reads it through an integer, which keeps nothing
// alive or in place.
func pinned(pin *runtime.Pinner, p unsafe.Pointer) uint64 {
	if p == nil {
		return 0
	}
	pin.Pin(p)
	return uint64(uintptr(p))
}

func bpf(cmd uintptr, attr unsafe.Pointer, size uintptr) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// bpfProgLoad loads a program and returns its fd (always O_CLOEXEC). With a
// log buffer the verifier writes why it refused the program there.
func bpfProgLoad(progType uint32, insns []bpfInsn, license string, log []byte) (int, error) {
	var pin runtime.Pinner
	defer pin.Unpin()
	lic := append([]byte(license), 0)
	attr := struct {
		progType, insnCnt uint32
		insns, license    uint64
		logLevel, logSize uint32
		logBuf            uint64
	}{progType: progType, insnCnt: uint32(len(insns)), insns: pinned(&pin, unsafe.Pointer(unsafe.SliceData(insns))),
		license: pinned(&pin, unsafe.Pointer(&lic[0]))}
	if len(log) > 0 {
		attr.logLevel, attr.logSize, attr.logBuf = 1, uint32(len(log)), pinned(&pin, unsafe.Pointer(&log[0]))
	}
	for {
		fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		// The verifier gives up with EAGAIN on a pending signal, and the
		// Go runtime sends SIGURG to preempt goroutines.
		if err != unix.EAGAIN {
			return fd, err
		}
	}
}

// bpfProgQuery fills ids with the programs attached to target (a cgroup
// fd) for attachType and returns how many there are, which is more than
// len(ids) when it fails with ENOSPC.
func bpfProgQuery(target int, attachType uint32, ids []uint32) (int, error) {
	var pin runtime.Pinner
	defer pin.Unpin()
	// Up to revision: recent kernels (the cgroup mprog API, 2025) write it
	// back to the caller's attr whatever size the caller passed.
	attr := struct {
		targetFD, attachType, queryFlags, attachFlags uint32
		progIDs                                       uint64
		progCnt                                       uint32
		_                                             uint32
		progAttachFlags, linkIDs, linkAttachFlags     uint64
		revision                                      uint64
	}{targetFD: uint32(target), attachType: attachType, progIDs: pinned(&pin, unsafe.Pointer(unsafe.SliceData(ids))),
		progCnt: uint32(len(ids))}
	_, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return int(attr.progCnt), err
}

type bpfAttachAttr struct {
	targetFD, attachBPFFD, attachType, attachFlags uint32
}

// bpfProgAttach attaches prog to target (a cgroup fd).
func bpfProgAttach(target, prog int, attachType, flags uint32) error {
	attr := bpfAttachAttr{uint32(target), uint32(prog), attachType, flags}
	_, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

// bpfProgDetach detaches prog from target (a cgroup fd).
func bpfProgDetach(target, prog int, attachType uint32) error {
	attr := bpfAttachAttr{targetFD: uint32(target), attachBPFFD: uint32(prog), attachType: attachType}
	_, err := bpf(unix.BPF_PROG_DETACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

// bpfProgGetFDByID opens the program with this id (the fd is O_CLOEXEC).
func bpfProgGetFDByID(id uint32) (int, error) {
	attr := struct{ progID, nextID, openFlags uint32 }{progID: id}
	return bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
}
