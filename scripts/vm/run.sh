#!/usr/bin/env bash
# run.sh: boot a small pure cgroup v2 Linux VM under QEMU and run hako's
# cgroups package tests and limited containers inside it (see
# docs/cgroup-v2-vm.md). This host mounts cgroups as a v1/v2 hybrid, which
# leaves hako's pure-v2 paths (memory.max, cpu.max, pids.max on cgroup2, the
# eBPF device filter as the only device control) untested without a VM.
#
# Exits 0 only if every expected check printed "PASS: name", none printed
# "FAIL:", and the VM powered off by itself before the timeout.
#
# Environment: HAKO_VM_TIMEOUT (seconds, default 300), HAKO_VM_CACHE (default
# .cache/vm). The serial log of the last run stays there as serial.log.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${HAKO_VM_CACHE:-$repo/.cache/vm}
timeout_s=${HAKO_VM_TIMEOUT:-300}
export PATH=/usr/local/go/bin:$PATH

# What the guest must report as passed. Keep in step with checks.sh: a
# check that silently stops running shows up here as missing.
expected=(
	pure-v2
	go-test go-test-host-lifecycle go-test-host-devicefilter
	memory.max cpu.max pids.max
	oom-kill cpu-throttled pids-fork-fails devices-kmsg-eperm
	pause resume kill-all delete no-cgroups-left
	apparmor-loaded
	apparmor-confined apparmor-pid1 apparmor-exec apparmor-exec-override
	apparmor-not-loaded apparmor-exec-not-loaded
)

work=""  # this run's scratch directory
aa=""    # the unpacked apparmor_parser (fetch_apparmor)
qemu=""  # PID of timeout(1) running QEMU, while it runs

say() { printf 'vm-test: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 1
}

# cleanup runs on every exit. timeout(1) puts QEMU in a process group of
# its own, out of reach of a Ctrl-C at the terminal, so it is stopped here.
cleanup() {
	[ -z "$qemu" ] || kill "$qemu" 2>/dev/null || true
	[ -z "$work" ] || rm -rf "$work"
}

# install_missing installs Debian packages that are not there yet. QEMU
# without recommends: the GUI, audio and network boot ROMs are not needed.
install_missing() {
	local missing=() p
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# kernel_pkg prints the image package and version behind Debian's
# linux-image-amd64 metapackage, e.g. "linux-image-6.1.0-56-amd64 6.1.192-2".
kernel_pkg() {
	local pkg ver
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
	[ -n "$pkg" ] || return 1
	ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
	echo "$pkg $ver"
}

# fetch_kernel leaves an uncompressed vmlinux in the cache and prints its
# path. The package is downloaded and unpacked, never installed: the host's
# /boot, bootloader and initramfs-tools stay untouched. Its vmlinuz is an xz
# bzImage; decompressing it once and booting the ELF through its PVH entry
# point (CONFIG_PVH=y) spares the guest unpacking it under emulation on
# every boot (about 4 s of wall time here).
fetch_kernel() {
	local pkg ver dir off
	read -r pkg ver < <(kernel_pkg || { apt-get update -qq && kernel_pkg; }) ||
		die "cannot resolve linux-image-amd64 with apt-cache"
	dir=$cache/kernel/${pkg}_$ver
	if [ ! -s "$dir/vmlinux" ]; then
		say "fetching $pkg $ver"
		rm -rf "$cache/kernel" && mkdir -p "$dir/x"
		# stderr is shown only on failure: apt always warns that its
		# sandbox user cannot write here and that it downloads as root.
		if ! (cd "$dir" && apt-get download -qq "$pkg=$ver" 2>"$work/apt.err"); then
			cat "$work/apt.err" >&2
			die "apt-get download $pkg=$ver failed"
		fi
		dpkg-deb --fsys-tarfile "$dir"/*.deb | tar -x -C "$dir/x" --wildcards './boot/vmlinuz-*' './boot/config-*'
		off=$(LC_ALL=C grep -abo $'\xfd7zXZ\x00' "$dir"/x/boot/vmlinuz-* | head -1 | cut -d: -f1)
		[ -n "$off" ] || die "no xz payload in the vmlinuz of $pkg"
		# The bzImage has bytes after the xz stream: --single-stream stops
		# at its end instead of failing on them.
		tail -c +$((off + 1)) "$dir"/x/boot/vmlinuz-* | xz -dc --single-stream >"$dir/vmlinux.tmp"
		mv "$dir/vmlinux.tmp" "$dir/vmlinux"
		mv "$dir"/x/boot/config-* "$dir/config"
		rm -rf "$dir/x" "$dir/"*.deb
	fi
	echo "$dir/vmlinux"
}

# fetch_apparmor leaves Debian's apparmor_parser and the kernel feature ABI
# it compiles for in the cache and prints the directory. Unpacked, never
# installed: the guest's kernel has AppArmor, this host's need not.
fetch_apparmor() {
	local ver dir
	ver=$(apt-cache policy apparmor | awk '/Candidate:/ {print $2}')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "cannot resolve apparmor with apt-cache"
	dir=$cache/apparmor/$ver
	if [ ! -x "$dir/apparmor_parser" ]; then
		say "fetching apparmor $ver"
		rm -rf "$cache/apparmor" && mkdir -p "$dir/x"
		if ! (cd "$dir" && apt-get download -qq "apparmor=$ver" 2>"$work/apt.err"); then
			cat "$work/apt.err" >&2
			die "apt-get download apparmor=$ver failed"
		fi
		dpkg-deb -x "$dir"/*.deb "$dir/x"
		mv "$dir/x/usr/share/apparmor-features/features" "$dir/features"
		mv "$dir/x/sbin/apparmor_parser" "$dir/apparmor_parser"
		rm -rf "$dir/x" "$dir/"*.deb
	fi
	echo "$dir"
}

# mkcpio DIR OUT writes DIR as a newc cpio archive (the format the kernel
# unpacks into its initial rootfs).
mkcpio() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$2"
}

# build_base builds the part of the initramfs that changes only with
# busybox-static: busybox and its applet links, the console device node, and
# the busybox rootfs the containers share. Cached, keyed by busybox's version
# and the contents of this script and mkbundle.sh.
build_base() {
	local out=$cache/base.cpio st=$work/base key a
	key=$(dpkg-query -W -f='${Version}' busybox-static; cat "$0" "$repo/scripts/mkbundle.sh" | sha256sum)
	[ -s "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ] && return
	mkdir -p "$st"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,newroot,bundles}
	cp /bin/busybox "$st/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ -e "$st/bin/$a" ] || ln -s busybox "$st/bin/$a"
	done
	# The kernel opens /dev/console for init's stdio before anything is
	# mounted: without the node, init's output is lost.
	mknod -m 600 "$st/dev/console" c 5 1
	HAKO="$repo/bin/hako" "$repo/scripts/mkbundle.sh" "$st/bundle" >/dev/null
	mv "$st/bundle/rootfs" "$st/rootfs"
	rm -rf "$st/bundle"
	mkcpio "$st" "$out.tmp"
	mv "$out.tmp" "$out"
	echo "$key" >"$out.key"
}

# bundle NAME MODE JQ writes the guest's /bundles/NAME/config.json: `hako
# spec`'s default, not a terminal, sharing the rootfs at /rootfs, running
# `probe.sh MODE`, changed further by the jq filter JQ.
bundle() {
	mkdir -p "$work/payload/bundles/$1"
	jq --arg mode "$2" '.process.terminal = false
		| .root.path = "/rootfs"
		| .process.args = ["/bin/sh", "/probe.sh", $mode]
		| '"$3" "$work/spec.json" >"$work/payload/bundles/$1/config.json"
}

# build_payload builds the part that changes with hako: the binaries, the
# guest scripts and the bundles.
build_payload() {
	local st=$work/payload
	mkdir -p "$st/usr/bin" "$st/rootfs" "$work/spec"
	cp "$repo/bin/hako" "$st/usr/bin/hako"
	(cd "$repo" && CGO_ENABLED=0 go test -c -trimpath -ldflags '-s -w' -o "$st/cgroups.test" ./internal/cgroups/)
	install -m 755 "$here/init" "$here/checks.sh" "$st/"
	install -m 755 "$here/probe.sh" "$st/rootfs/"
	# AppArmor: the test profile, compiled here for the guest's kernel, and
	# a file it denies.
	mkdir -p "$st/apparmor" "$st/rootfs/etc"
	"$aa/apparmor_parser" --config-file /dev/null -M "$aa/features" -S "$here/hako-test.apparmor" >"$st/apparmor/hako-test.bin"
	echo secret >"$st/rootfs/etc/hako-denied"
	"$repo/bin/hako" spec --bundle "$work/spec"
	mv "$work/spec/config.json" "$work/spec.json"
	local mem='{"limit": 33554432, "swap": 33554432}' cpu='{"quota": 50000, "period": 100000}'
	# limits: every limit at once, long-lived, for pause/resume/kill/delete.
	bundle limits idle ".linux.resources += {memory: $mem, cpu: $cpu, pids: {limit: 10}}"
	bundle oom oom ".linux.resources.memory = $mem"
	bundle cpu cpu ".linux.resources.cpu = $cpu"
	bundle pids pids '.linux.resources.pids = {limit: 10}'
	# mknod must be possible, or "Operation not permitted" would come from
	# the missing capability rather than from the device filter.
	bundle devices devices '.process.capabilities |= with_entries(.value += ["CAP_MKNOD"])'
	bundle aa-confined apparmor '.process.apparmorProfile = "hako-test"'
	bundle aa-idle idle '.process.apparmorProfile = "hako-test"'
	bundle aa-not-loaded apparmor '.process.apparmorProfile = "hako-no-such-profile"'
	mkcpio "$st" "$work/payload.cpio"
}

# boot KERNEL INITRD LOG runs the VM with the serial console going to LOG,
# shown live, and returns QEMU's status (124 when the timeout ended it).
boot() {
	local rc=0
	# Software emulation (TCG): this host's /dev/kvm serves only patched
	# guests. -nodefaults drops the VGA card, NIC and disks a test needs
	# none of. poweroff in the guest ends QEMU; so does a panic, through
	# panic=-1 (reboot at once) and -no-reboot.
	timeout -k 5 "$timeout_s" qemu-system-x86_64 -accel tcg -m 1024 -smp 2 \
		-nodefaults -no-user-config -display none -monitor none -no-reboot \
		-serial "file:$3" -kernel "$1" -initrd "$2" \
		-append "console=ttyS0 quiet cgroup_no_v1=all apparmor=1 panic=-1" </dev/null &
	qemu=$!
	tail -F --pid="$qemu" -s 0.2 "$3" 2>/dev/null || true
	wait "$qemu" || rc=$?
	qemu=""
	return "$rc"
}

# verdict LOG QEMU_STATUS prints the summary; it fails on a FAIL line, a
# missing PASS line, or a guest that did not finish.
verdict() {
	local log=$1 qemu_rc=$2 name passed=0 failed missing=() done=1
	# The serial console ends lines with CR LF.
	sed -i 's/\r$//' "$log"
	for name in "${expected[@]}"; do
		if grep -qxF "PASS: $name" "$log"; then
			passed=$((passed + 1))
		elif ! grep -qF "FAIL: $name (" "$log"; then
			missing+=("$name")
		fi
	done
	failed=$(grep -c '^FAIL: ' "$log" || true)
	grep -q '^vm: done' "$log" || done=0
	echo
	echo "== vm-test summary =="
	grep -E '^(PASS|FAIL): |^vm: [^[]' "$log" || true
	[ ${#missing[@]} -eq 0 ] || echo "missing: ${missing[*]}"
	if [ "$done" -eq 0 ]; then
		if [ "$qemu_rc" -eq 124 ]; then
			echo "the guest did not finish: timed out after ${timeout_s}s"
		else
			echo "the guest did not finish (qemu exit status $qemu_rc)"
		fi
	fi
	echo "vm-test: $passed passed, $((failed + ${#missing[@]})) failed"
	[ "$failed" -eq 0 ] && [ ${#missing[@]} -eq 0 ] && [ "$qemu_rc" -eq 0 ] && [ "$done" -eq 1 ]
}

main() {
	[ "$(id -u)" -eq 0 ] || die "must run as root: it installs packages and builds device nodes"
	local t0=$SECONDS t1 kernel qemu_rc=0 ok=0
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	install_missing qemu-system-x86 cpio busybox-static jq xz-utils
	mkdir -p "$cache"
	work=$(mktemp -d "$cache/run.XXXXXX")
	make -C "$repo" --no-print-directory build >/dev/null
	# The shared cache is filled under a lock, so two runs at once neither
	# fetch the kernel twice nor read a half-written base.cpio.
	exec 9>"$cache/lock"
	flock 9
	kernel=$(fetch_kernel)
	aa=$(fetch_apparmor)
	build_base
	cp "$cache/base.cpio" "$work/initramfs.cpio"
	flock -u 9
	build_payload
	# The kernel unpacks concatenated cpio archives in turn: the cached
	# base, then this run's payload. Uncompressed: QEMU copies it into
	# guest memory at host speed, while gunzip would run emulated.
	cat "$work/payload.cpio" >>"$work/initramfs.cpio"
	say "booting $(basename "$(dirname "$kernel")") (TCG, timeout ${timeout_s}s); prepared in $((SECONDS - t0))s"
	t1=$SECONDS
	boot "$kernel" "$work/initramfs.cpio" "$work/serial.log" || qemu_rc=$?
	verdict "$work/serial.log" "$qemu_rc" || ok=1
	mv "$work/serial.log" "$cache/serial.log"
	say "VM ran $((SECONDS - t1))s, total $((SECONDS - t0))s; serial log: $cache/serial.log"
	return "$ok"
}

main "$@"
