#!/usr/bin/env bash
# rootless-net.sh [N]: in the systemd test VM (docs/systemd-vm.md), where
# /dev/net/tun is usable by users (the build machine's is not), rootless
# networking as hakouser: hk with pasta, hk with slirp4netns and podman
# at its rootless default (slirp4netns in Debian 12's podman 4.3):
#   - start cost: `run --rm IMAGE true` on that network against
#     `--network none` (N runs each, interleaved; medians);
#   - TCP throughput (iperf3, scripts/bench/iperf-lib.sh) host ->
#     container through a published port and container -> host, to an
#     address of the VM on a veth the script makes (N rounds of 3 s).
# The VM is emulated (TCG): compare ratios, not times or rates.
#
# Run it in the guest as root, e.g. from the host:
#   scripts/sysvm/vm.sh copy-in bin/hako scripts/sysvm-bench/rootless-net.sh scripts/bench/iperf-lib.sh /opt/hako-test/
#   scripts/sysvm/vm.sh exec /opt/hako-test/rootless-net.sh 5
set -euo pipefail
n=${1:-5}
here=$(cd "$(dirname "$0")" && pwd)
lib=$here/iperf-lib.sh # beside it in the guest, scripts/bench/ in the repo
[ -f "$lib" ] || lib=$here/../bench/iperf-lib.sh
. "$lib"
hako=${HAKO:-/opt/hako-test/hako}
user=hakouser uid=$(id -u hakouser)
dir=$(mktemp -d /tmp/rootless-net.XXXXXX)
chmod 755 "$dir"
ln -s "$hako" "$dir/hk"
as_user() {
	setpriv --reuid=$user --regid=$user --init-groups env HOME=/home/$user USER=$user XDG_RUNTIME_DIR=/run/user/$uid \
		DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus "$@"
}
hk_() { as_user "$dir/hk" --root "/home/$user/rlbench" --runroot "/run/user/$uid/rlbench" "$@"; }
podman_() { as_user env -C /home/$user podman "$@"; }
cleanup() {
	set +e
	hk_ rm -f ip3 >/dev/null 2>&1
	podman_ rm -f -t 0 ip3 >/dev/null 2>&1
	podman_ rmi -f localhost/rlbench:1 >/dev/null 2>&1
	ip link del rlbench0 2>/dev/null
	ip link del rlbench1 2>/dev/null # and its default route
	ip netns del rlbench 2>/dev/null
	rm -rf "$dir" "/home/$user/rlbench" "/run/user/$uid/rlbench"
}
trap cleanup EXIT

# The image: the guest's busybox-static, for both tools.
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/rootfs/etc" "$dir/rootfs/tmp"
cp /bin/busybox "$dir/rootfs/bin/busybox"
for a in sh true sleep httpd; do ln -s busybox "$dir/rootfs/bin/$a"; done
tar -C "$dir/rootfs" -cf "$dir/rootfs.tar" .
chmod 644 "$dir/rootfs.tar"
hk_ import "$dir/rootfs.tar" rlbench:1 >/dev/null
podman_ import "$dir/rootfs.tar" localhost/rlbench:1 >/dev/null

# An address of the VM the containers reach: the host end of a veth
# into an empty namespace. The VM has no default route, which pasta
# needs (it copies that interface's address into the container): a
# second veth gets one while the script runs (the container's own
# address is then 10.252.1.1, so 10.252.0.1 stays the host's).
ip netns add rlbench
ip link add rlbench0 type veth peer name p0 netns rlbench
ip link add rlbench1 type veth peer name p1 netns rlbench
ip addr add 10.252.0.1/30 dev rlbench0
ip addr add 10.252.1.1/30 dev rlbench1
ip link set rlbench0 up
ip link set rlbench1 up
ip -n rlbench link set p0 up
ip -n rlbench link set p1 up
[ -n "$(ip route show default)" ] || ip route add default via 10.252.1.2 dev rlbench1

ms() { local a b; a=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "rootless-net: $* failed" >&2; exit 1; }; b=$(date +%s%N); echo $(((b - a) / 1000)); }
: >"$dir/start"
for ((i = 0; i < n; i++)); do
	echo "hk-none $(ms hk_ run --rm --network none rlbench:1 true)" >>"$dir/start"
	echo "hk-pasta $(ms hk_ run --rm --network pasta rlbench:1 true)" >>"$dir/start"
	echo "hk-slirp4netns $(ms hk_ run --rm --network slirp4netns rlbench:1 true)" >>"$dir/start"
	echo "podman-none $(ms podman_ run --rm --network none localhost/rlbench:1 true)" >>"$dir/start"
	echo "podman-default $(ms podman_ run --rm localhost/rlbench:1 true)" >>"$dir/start"
done

: >"$dir/iperf"
for ((i = 0; i < n; i++)); do
	for net in pasta slirp4netns; do
		hk_ run -d --name ip3 --network $net -p 127.0.0.1:21301:5201 rlbench:1 sleep 600 >/dev/null
		iperf_rows "hk-$net" "$(hk_ inspect -f '{{.State.Pid}}' ip3)" "" 21301 10.252.0.1 >>"$dir/iperf"
		hk_ rm -f ip3 >/dev/null
	done
	podman_ run -d --name ip3 -p 127.0.0.1:21302:5201 localhost/rlbench:1 sleep 600 >/dev/null
	iperf_rows "podman-default" "$(podman_ inspect -f '{{.State.Pid}}' ip3)" "" 21302 10.252.0.1 >>"$dir/iperf"
	podman_ rm -f -t 0 ip3 >/dev/null
done

echo "### Rootless start cost: run --rm IMAGE true (N=$n, $(nproc) CPUs, emulated: ratios only)"
echo
echo "| run | median ms | its network's cost (median - the tool's none) |"
echo "|---|---|---|"
for k in hk-none hk-pasta hk-slirp4netns podman-none podman-default; do
	m=$(awk -v k="$k" '$1 == k {print $2 / 1000}' "$dir/start" | median)
	none=$(awk -v k="${k%%-*}-none" '$1 == k {print $2 / 1000}' "$dir/start" | median)
	awk -v k="$k" -v m="$m" -v n="$none" 'BEGIN {printf "| %s | %.0f | %+.0f |\n", k, m, m - n}'
done
echo
echo "### Rootless TCP throughput (iperf3 -t ${IPERF_T:-3}, median of $n)"
echo
iperf_table "$dir/iperf"
