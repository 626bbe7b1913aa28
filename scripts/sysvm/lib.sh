# lib.sh: shared by image.sh, vm.sh and test.sh (sourced, not run).
# Paths, logging and the host packages the VM needs.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export PATH=/usr/local/go/bin:$PATH

# The image is built once per machine, outside any checkout: CI runs on a
# fresh clone, where a cache under .cache would be rebuilt every time.
cache_root=${HAKO_SYSVM_CACHE:-/var/cache/hako/sysvm}

say() { printf 'sysvm: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 1
}

# install_missing installs Debian packages that are not installed yet,
# waiting for another apt-get on the machine rather than failing.
install_missing() {
	local missing=() p
	for p in "$@"; do
		case $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) in
		i[iTW]*) ;;
		*) missing+=("$p") ;;
		esac
	done
	[ ${#missing[@]} -eq 0 ] && return
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=300 update -qq
	apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# host_deps: what building and booting the image needs on the host.
host_deps() {
	install_missing mmdebstrap qemu-system-x86 qemu-utils e2fsprogs openssh-client socat busybox-static
}

# image_key names the image by what it is built from: the build scripts,
# the initramfs hook and the package list. Package versions are whatever
# the mirror serves the day it is built; delete the cache directory to
# pick up newer ones.
image_key() {
	# image.sh's build() only: how the cache is kept (prune) builds nothing.
	{ sed -n '/^build() {$/,/^}$/p' "$here/image.sh"; cat "$here/customize.sh" "$here/initramfs-hook" "$here/packages"; } | sha256sum | cut -c1-16
}

# image_dir prints the cached image's directory (built or not).
image_dir() {
	echo "$cache_root/$(image_key)"
}

# elapsed T0 prints the seconds since T0 (from now_ms), e.g. "12.3s".
now_ms() { date +%s%3N; }
elapsed() {
	local d=$(($(now_ms) - $1))
	printf '%d.%01ds' $((d / 1000)) $((d % 1000 / 100))
}
