#!/usr/bin/env bash
# image.sh: build the systemd guest image once per machine and print its
# directory (see docs/systemd-vm.md). The directory, under
# /var/cache/hako/sysvm/KEY (HAKO_SYSVM_CACHE overrides the parent), holds:
#   base.qcow2       the root filesystem (ext4, no partition table); runs
#                    boot from an overlay on it and never write to it
#   vmlinuz, initrd  Debian's kernel and its initramfs, from the image's /boot
#   id_ed25519       the key root and hakouser accept over ssh
#   build.log        mmdebstrap's output
# KEY is a hash of build() below, customize.sh and the package list: change
# one and the next run builds a new image. Built under a lock, so runs that
# start together build it once; older images are removed when no running
# VM uses them and no run asked for them in the last day.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build() {
	local out=$1 tmp pkgs src=() f
	tmp=$(mktemp -d "$cache_root/build.XXXXXX")
	# --one-file-system: if mmdebstrap dies, /proc, /sys or /dev/pts may
	# still be mounted in the root it was building.
	trap 'rm -rf --one-file-system "$tmp"' EXIT
	pkgs=$(grep -v '^#' "$here/packages" | paste -sd, -)
	# The guest's apt sources are the host's own.
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
		[ -s "$f" ] && src+=("$f")
	done
	ssh-keygen -q -t ed25519 -N '' -C hako-sysvm -f "$tmp/id_ed25519"
	say "building the guest image in $out (mmdebstrap, about a minute; log: $out/build.log)"
	# The initramfs: see initramfs-hook. Set up before the kernel is
	# installed, so that its initramfs is made that way.
	if ! mmdebstrap --variant=apt --include="$pkgs" \
		--setup-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/etc/initramfs-tools/hooks"' \
		--setup-hook='echo MODULES=list >"$1/etc/initramfs-tools/conf.d/hako-sysvm.conf"' \
		--setup-hook="cp '$here/initramfs-hook' \"\$1/etc/initramfs-tools/hooks/hako-sysvm\"" \
		--customize-hook="'$here/customize.sh' \"\$1\" '$tmp/id_ed25519.pub'" \
		bookworm "$tmp/rootfs" "${src[@]}" >"$tmp/build.log" 2>&1; then
		tail -30 "$tmp/build.log" >&2
		die "mmdebstrap failed; full log above in part"
	fi
	cp "$tmp"/rootfs/boot/vmlinuz-* "$tmp/vmlinuz"
	cp "$tmp"/rootfs/boot/initrd.img-* "$tmp/initrd"
	# An 8 GiB file system, sparse: images and containers the tests make
	# land in the per-run overlay, not here.
	truncate -s 8G "$tmp/root.img"
	mkfs.ext4 -q -L hako-sysvm -d "$tmp/rootfs" "$tmp/root.img"
	qemu-img convert -O qcow2 "$tmp/root.img" "$tmp/base.qcow2"
	chmod 444 "$tmp/base.qcow2"
	rm -rf "$tmp/rootfs" "$tmp/root.img"
	mv "$tmp" "$out"
	trap - EXIT
}

# prune removes the images of other keys that no running VM booted from
# (vm.sh records each VM's image and qemu pid in vms/NAME/) and that no run
# asked for in the last day (each run touches its image's `used`): two
# checkouts with different package lists (a branch and main) used to
# remove each other's image between build and boot, and rebuild it.
prune() {
	local d vm pid
	for d in "$cache_root"/*/; do
		d=${d%/}
		{ [ "$d" = "$1" ] || [ ! -f "$d/base.qcow2" ]; } && continue
		[ -n "$(find "$d/used" -mmin -1440 2>/dev/null)" ] && continue
		for vm in "$cache_root"/vms/*/; do
			pid=$(cat "$vm/pid" 2>/dev/null) || continue
			[ "$(cat "$vm/image" 2>/dev/null)" = "$d" ] && [ -d "/proc/$pid" ] && continue 2
		done
		say "removing the old image $d"
		rm -rf "$d"
	done
}

main() {
	[ "$(id -u)" -eq 0 ] || die "must run as root (mmdebstrap, the machine-wide cache)"
	host_deps
	mkdir -p "$cache_root"
	local dir t0
	dir=$(image_dir)
	exec 8>"$cache_root/lock"
	flock 8
	if [ ! -f "$dir/base.qcow2" ]; then
		t0=$(now_ms)
		build "$dir"
		say "image built in $(elapsed "$t0")"
		prune "$dir"
	fi
	touch "$dir/used"
	flock -u 8
	echo "$dir"
}

main "$@"
