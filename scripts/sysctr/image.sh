#!/usr/bin/env bash
# image.sh: build the system-container test image once per machine and
# print the path of its root filesystem tarball (gzip), ready for
# `podman import` or `docker import` (see docs/engines.md, "System
# containers"). A minimal Debian 12 with systemd as /sbin/init, dbus and
# Debian's static busybox, from the machine's own apt sources, plus one
# unit of ours, hako-httpd.service: busybox httpd on 127.0.0.1:8080
# answering "hako-sysctr ok".
#
# The tarball is /var/cache/hako/sysctr/KEY/rootfs.tar.gz
# (HAKO_SYSCTR_CACHE overrides the parent); KEY is a hash of this script.
# Built under a lock, so runs that start together build it once; images of
# other keys are removed.
set -euo pipefail

cache_root=${HAKO_SYSCTR_CACHE:-/var/cache/hako/sysctr}
say() { printf 'sysctr: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 1
}

# customize runs inside mmdebstrap's customize hook: $1 is the rootfs.
customize() {
	local r=$1
	mkdir -p "$r/srv/www" "$r/etc/systemd/system/multi-user.target.wants"
	echo 'hako-sysctr ok' >"$r/srv/www/index.html"
	cat >"$r/etc/systemd/system/hako-httpd.service" <<'UNIT'
[Unit]
Description=busybox httpd on 127.0.0.1:8080 (hako system-container test)

[Service]
ExecStart=/bin/busybox httpd -f -p 127.0.0.1:8080 -h /srv/www

[Install]
WantedBy=multi-user.target
UNIT
	ln -sf ../hako-httpd.service "$r/etc/systemd/system/multi-user.target.wants/hako-httpd.service"
	ln -sf /lib/systemd/system/multi-user.target "$r/etc/systemd/system/default.target"
	# Nothing else to fetch: drop apt's lists and caches.
	rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*
	: >"$r/etc/machine-id"
}

build() {
	local out=$1 tmp src=() f
	tmp=$(mktemp -d "$cache_root/build.XXXXXX")
	trap 'rm -rf --one-file-system "$tmp"' EXIT
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
		[ -s "$f" ] && src+=("$f")
	done
	say "building the system-container image in $out (mmdebstrap; log: $out/build.log)"
	# No translations, manuals or documentation but the copyrights: a fifth
	# less to import, which is slow under emulation (tests/systemd).
	if ! mmdebstrap --variant=minbase --include=systemd,systemd-sysv,dbus,busybox-static \
		--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--customize-hook="'$self' --customize \"\$1\"" \
		--format=tar bookworm "$tmp/rootfs.tar" "${src[@]}" >"$tmp/build.log" 2>&1; then
		tail -30 "$tmp/build.log" >&2
		die "mmdebstrap failed"
	fi
	gzip -1 "$tmp/rootfs.tar"
	mv "$tmp" "$out"
	trap - EXIT
}

main() {
	[ "$(id -u)" -eq 0 ] || die "must run as root (mmdebstrap, the machine-wide cache)"
	if [ "${1:-}" = --customize ]; then
		customize "$2"
		return
	fi
	command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (apt-get install mmdebstrap)"
	mkdir -p "$cache_root"
	local key dir d
	key=$(sha256sum "$self" | cut -c1-16)
	dir=$cache_root/$key
	exec 8>"$cache_root/lock"
	flock 8
	if [ ! -f "$dir/rootfs.tar.gz" ]; then
		build "$dir"
		for d in "$cache_root"/*/; do
			d=${d%/}
			[ "$d" = "$dir" ] || [ ! -f "$d/rootfs.tar.gz" ] || rm -rf "$d"
		done
	fi
	flock -u 8
	echo "$dir/rootfs.tar.gz"
}

self=$(readlink -f "${BASH_SOURCE[0]}")
main "$@"
