#!/usr/bin/env bash
# vm.sh: keep a systemd guest (image.sh) running and work in it.
#
#   vm.sh start             boot a VM on a fresh overlay of the image; returns
#                           once systemd has finished booting
#   vm.sh exec CMD [ARG...] run CMD as root in the guest (stdout, stderr and
#                           the exit status come back; stdin is passed on)
#   vm.sh shell [USER]      an interactive login shell (root, or hakouser)
#   vm.sh copy-in SRC... DIR  copy host files or directories into DIR
#   vm.sh copy-out SRC DIR  copy a guest file or directory to host DIR
#   vm.sh status            the VM's name, pid, ssh port and serial log
#   vm.sh stop              power it off and remove its files
#
# Several VMs can run at once: HAKO_SYSVM_NAME (default "dev") names one.
# HAKO_SYSVM_MEM (MiB, default 3072) and HAKO_SYSVM_CPUS (default 2) size
# it. The host reaches the guest by ssh, forwarded from 127.0.0.1 only, over
# qemu's user-mode network with restrict=on: the guest reaches nothing
# outside (see docs/systemd-vm.md).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

name=${HAKO_SYSVM_NAME:-dev}
mem=${HAKO_SYSVM_MEM:-3072}
cpus=${HAKO_SYSVM_CPUS:-2}
case $name in *[!A-Za-z0-9_.-]* | "") die "bad HAKO_SYSVM_NAME: $name" ;; esac
vmdir=$cache_root/vms/$name

# A running VM's directory holds: image (the image directory it booted),
# overlay.qcow2, pid, port, serial.log, qmp.sock (qemu's QMP), ssh.ctl (the
# shared ssh connection).
vm_get() { cat "$vmdir/$1" 2>/dev/null; }

# vm_pid prints the pid of this VM's qemu if it is running: the pid file's
# process, and only if it still is the qemu on this overlay (a pid can be
# reused).
vm_pid() {
	local pid
	pid=$(vm_get pid) || return 1
	[ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$vmdir/overlay.qcow2" || return 1
	echo "$pid"
}

# ssh_opts prints ssh's options for this VM. Commands share one
# connection, opened by start (open_master) when it exists: a new ssh
# handshake costs seconds under emulation. ssh takes the first value given
# for an option: options that must win go before these.
ssh_opts() {
	local img
	img=$(vm_get image) || die "no VM named $name (vm.sh start)"
	echo -i "$img/id_ed25519" -p "$(vm_get port)" -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10 \
		-o ServerAliveInterval=15 -o ServerAliveCountMax=8 \
		-o ControlPath="$vmdir/ssh.ctl"
}

# open_master opens the shared connection: an ssh in the background that
# ends with the VM (or close_master).
open_master() {
	# shellcheck disable=SC2046
	ssh -o ControlMaster=yes -o ControlPersist=no $(ssh_opts) -f -N root@127.0.0.1 </dev/null >/dev/null 2>&1 || true
}

close_master() {
	[ -S "$vmdir/ssh.ctl" ] || return 0
	# shellcheck disable=SC2046
	ssh $(ssh_opts) -O exit root@127.0.0.1 >/dev/null 2>&1 || true
}

# quote ARG... prints the arguments as one shell command line (ssh joins
# its arguments with spaces and gives the result to the guest's shell).
quote() {
	local a out=""
	for a in "$@"; do out+=" $(printf '%q' "$a")"; done
	echo "${out# }"
}

gexec() {
	# shellcheck disable=SC2046
	ssh $(ssh_opts) -o BatchMode=yes root@127.0.0.1 -- "$(quote "$@")"
}

# launch IMG PORT [QEMU ARG...] boots qemu in the background on the VM's
# overlay.
launch() {
	local img=$1 port=$2 append
	shift 2
	# Debian's kernel has AppArmor built in and on; said here anyway, so
	# the guest has it whatever the default. cgroup v2 only is systemd
	# 252's default; said too.
	append="root=/dev/vda rw console=ttyS0 quiet apparmor=1 security=apparmor systemd.unified_cgroup_hierarchy=1 panic=-1"
	# Software emulation (TCG): this host's /dev/kvm serves only patched
	# guests. -nodefaults drops the VGA card and default NIC and drives.
	# cache=unsafe: the overlay is thrown away after the run anyway.
	qemu-system-x86_64 -accel tcg -m "$mem" -smp "$cpus" \
		-nodefaults -no-user-config -display none -monitor none -no-reboot \
		-serial "file:$vmdir/serial.log" -qmp "unix:$vmdir/qmp.sock,server=on,wait=off" \
		-kernel "$img/vmlinuz" -initrd "$img/initrd" -append "$append" \
		-drive "file=$vmdir/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap" \
		-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:22" \
		-device virtio-net-pci,netdev=n0 -device virtio-rng-pci \
		-daemonize -pidfile "$vmdir/pid" "$@"
}

# boot IMG DISK [STATE] starts this VM on a new overlay of DISK, restoring
# the saved STATE if given, and waits until the guest's sshd answers.
boot() {
	local img=$1 disk=$2 port try deadline restore=0 args=()
	if [ -n "${3:-}" ]; then
		restore=1
		args=(-incoming "exec:cat '$3'")
	fi
	rm -rf "$vmdir"
	mkdir -p "$vmdir"
	echo "$img" >"$vmdir/image"
	qemu-img create -q -f qcow2 -b "$disk" -F qcow2 "$vmdir/overlay.qcow2"
	for try in 1 2 3; do
		port=$(free_port)
		echo "$port" >"$vmdir/port"
		launch "$img" "$port" "${args[@]}" 2>"$vmdir/qemu.err" && break
		grep -q 'hostfwd' "$vmdir/qemu.err" && [ "$try" -lt 3 ] && continue # lost a race for the port
		cat "$vmdir/qemu.err" >&2
		die "qemu did not start"
	done
	say "booting $name (TCG, ssh on 127.0.0.1:$port, serial log $vmdir/serial.log)"
	deadline=$((SECONDS + ${HAKO_SYSVM_BOOT_TIMEOUT:-300}))
	until gexec true 2>/dev/null; do
		vm_pid >/dev/null || { tail -20 "$vmdir/serial.log" >&2; die "qemu exited while booting"; }
		# A restored VM stays paused, as it was when saved (see
		# cmd_snapshot), once its state is loaded: run it.
		if [ "$restore" = 1 ] && qmp '{"execute":"query-status"}' | grep -q '"status": "paused"'; then
			qmp '{"execute":"cont"}' >/dev/null
		fi
		[ $SECONDS -lt $deadline ] || { tail -20 "$vmdir/serial.log" >&2; die "no ssh after ${HAKO_SYSVM_BOOT_TIMEOUT:-300}s"; }
		sleep 1
	done
}

# booted prints the state systemd reached once booting ended: running, or
# degraded (the tests say which units failed).
booted() {
	gexec timeout 240 systemctl is-system-running --wait || true
}

# qmp COMMAND... sends QMP commands (JSON) to this VM's qemu and prints the
# replies.
qmp() {
	{
		echo '{"execute":"qmp_capabilities"}'
		printf '%s\n' "$@"
		sleep 0.5
	} | socat -t 5 - "UNIX-CONNECT:$vmdir/qmp.sock"
}

# snapshot_dir IMG prints where the image's snapshot is, named by what it
# must match when restored: memory, CPUs, qemu's version, how qemu is run.
snapshot_dir() {
	echo "$1/snapshot-$({ echo "$mem $cpus"; qemu-system-x86_64 --version; declare -f launch; } | sha256sum | cut -c1-12)"
}

# cmd_snapshot IMG (vm.sh _snapshot, run by start) makes the image's
# snapshot unless it is there: a VM of its own is booted cold on the base
# once, then paused and saved: disk.qcow2 is its disk then (an overlay on
# base.qcow2), state is qemu's migration stream of its memory and devices.
# start restores a VM from the two in seconds instead of booting for
# minutes. Under a lock, so concurrent starts make it once.
cmd_snapshot() {
	local img=$1 snap pid i
	snap=$(snapshot_dir "$img")
	exec 6>"$img/snapshot.lock"
	flock 6
	[ -f "$snap/state" ] && return
	name=snapshot-$(basename "$img")
	vmdir=$cache_root/vms/$name
	trap cmd_stop EXIT
	boot "$img" "$img/base.qcow2"
	say "$name: $(booted); saving"
	gexec sync
	pid=$(vm_pid)
	qmp '{"execute":"stop"}' '{"execute":"migrate","arguments":{"uri":"exec:cat >'"$vmdir"'/state"}}' >/dev/null
	for i in $(seq 300); do
		case $(qmp '{"execute":"query-migrate"}') in
		*'"completed"'*) break ;;
		*'"failed"'* | *'"cancelled"'*) die "saving the snapshot failed" ;;
		esac
		sleep 1
	done
	qmp '{"execute":"quit"}' >/dev/null || true
	for i in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
	rm -rf "$snap.tmp"
	mkdir "$snap.tmp"
	mv "$vmdir/overlay.qcow2" "$snap.tmp/disk.qcow2"
	mv "$vmdir/state" "$snap.tmp/state"
	chmod 444 "$snap.tmp"/*
	mv "$snap.tmp" "$snap"
}

# free_port prints a TCP port nothing on 127.0.0.1 listens on now.
free_port() {
	local p i
	for i in $(seq 50); do
		p=$((20000 + RANDOM % 20000))
		ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
	die "no free port found"
}

cmd_start() {
	local img t0 snap
	t0=$(now_ms)
	vm_pid >/dev/null && die "a VM named $name is running already (vm.sh stop, or HAKO_SYSVM_NAME=other)"
	img=$("$here/image.sh")
	snap=$(snapshot_dir "$img")
	# A start that fails leaves no VM behind.
	trap cmd_stop EXIT
	if [ "${HAKO_SYSVM_SNAPSHOT:-1}" = 1 ] && "$0" _snapshot "$img"; then
		boot "$img" "$snap/disk.qcow2" "$snap/state"
		# The guest's clock stood still since the snapshot was taken.
		gexec date -s "@$(date +%s.%N)" >/dev/null
		say "$name restored from $snap"
	else
		[ "${HAKO_SYSVM_SNAPSHOT:-1}" = 1 ] && say "no snapshot; booting cold"
		boot "$img" "$img/base.qcow2"
	fi
	open_master
	say "$name is up ($(booted)) in $(elapsed "$t0")"
	trap - EXIT
}

cmd_stop() {
	local pid i
	if pid=$(vm_pid); then
		timeout 20 ssh $(ssh_opts) -o BatchMode=yes root@127.0.0.1 systemctl poweroff >/dev/null 2>&1 || true
		for i in $(seq 60); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
		close_master
		# Only our qemu, by its pid, and only if it still is ours.
		pid=$(vm_pid) && kill "$pid" 2>/dev/null || true
	fi
	rm -rf "$vmdir"
}

cmd_shell() {
	local user=${1:-root} own=()
	# The shared connection is root's: another user logs in on a new
	# one.
	[ "$user" = root ] || own=(-o ControlPath=none)
	# shellcheck disable=SC2046
	exec ssh "${own[@]}" $(ssh_opts) -t "$user@127.0.0.1"
}

# copy-in streams a tar over ssh: no scp/sftp subsystem needed, and owners
# and modes come along.
cmd_copy_in() {
	[ $# -ge 2 ] || die "usage: vm.sh copy-in SRC... DIR"
	local dest=${*: -1} src args=()
	for src in "${@:1:$#-1}"; do
		args+=(-C "$(dirname "$src")" "$(basename "$src")")
	done
	# One archive, one command: each costs seconds under emulation.
	tar -cf - "${args[@]}" | gexec sh -c 'mkdir -p "$1" && tar -C "$1" -xf -' sh "$dest"
}

cmd_copy_out() {
	[ $# -eq 2 ] || die "usage: vm.sh copy-out SRC DIR"
	mkdir -p "$2"
	gexec tar -C "$(dirname "$1")" -cf - "$(basename "$1")" | tar -C "$2" -xf -
}

cmd_status() {
	local pid
	pid=$(vm_pid) || { echo "$name: not running"; return 1; }
	echo "$name: pid $pid, ssh 127.0.0.1:$(vm_get port), image $(vm_get image), serial log $vmdir/serial.log"
}

main() {
	[ "$(id -u)" -eq 0 ] || die "must run as root"
	local cmd=${1:-}
	shift || true
	case $cmd in
	start) cmd_start ;;
	_snapshot) cmd_snapshot "$@" ;;
	exec) [ $# -gt 0 ] || die "usage: vm.sh exec CMD [ARG...]"; vm_pid >/dev/null || die "$name is not running"; gexec "$@" ;;
	shell) cmd_shell "$@" ;;
	copy-in) cmd_copy_in "$@" ;;
	copy-out) cmd_copy_out "$@" ;;
	status) cmd_status ;;
	stop) cmd_stop ;;
	*) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
}

main "$@"
