#!/usr/bin/env bash
# hk.sh (part of `make bench`): the front end against podman and Docker on
# the same image, in one run, interleaved round by round:
#   - `run --rm IMAGE true` with no network (wall time per run);
#   - the same on each tool's default bridge network (a veth, an address,
#     NAT rules made and removed per run: hknet; podman's CNI plugins;
#     dockerd's libnetwork);
#   - from `run -d -p PORT:80 IMAGE httpd` to the first TCP connect that
#     succeeds on 127.0.0.1:PORT (Docker's in its own network namespace);
#   - the monitor's memory per detached container: hk's hako-mon against
#     podman's conmon (RSS and PSS from /proc/PID/smaps_rollup);
#   - TCP throughput (iperf3, scripts/bench/iperf-lib.sh) host -> container
#     through a published port and container -> host, on each tool's
#     default bridge (rootless: scripts/sysvm-bench/rootless-net.sh).
# The image is Debian's busybox-static as a `docker export`-style rootfs
# tar, imported into each tool. podman and dockerd run with private
# storage and state (as tests/engines starts them), both with runc (crun,
# podman's first choice, refuses this cgroup v1/v2 hybrid host), so each
# is measured as a user meets it here.
#
#   scripts/bench/hk.sh              N=50 rounds
#   BENCH_N=10 scripts/bench/hk.sh   quick look
#
# Needs root on Debian; scripts/engines/setup.sh installs podman, conmon,
# docker.io. Scratch in .cache/bench-hk/.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
n=${BENCH_N:-50}
hk=$repo/bin/hk
work=$repo/.cache/bench-hk
[ "$(id -u)" = 0 ] || { echo "bench hk: needs root" >&2; exit 1; }
"$repo/scripts/engines/setup.sh" >/dev/null
[ -x "$hk" ] || make -s -C "$repo" build

cleanup() {
	set +e
	[ -z "${podman_ok:-}" ] || { podman_ rm -af >/dev/null 2>&1; podman_ system reset -f >/dev/null 2>&1; }
	[ -z "${dpid:-}" ] || { docker_ rm -f $(docker_ ps -aq) >/dev/null 2>&1; kill "$dpid"; wait "$dpid" 2>/dev/null; }
	[ -z "${hk_ok:-}" ] || "$hk" --root "$work/hk" --runroot "$work/hkrun" rm -f $("$hk" --root "$work/hk" --runroot "$work/hkrun" ps -aq) >/dev/null 2>&1
	for m in $(grep -o " $work/[^ ]*" /proc/self/mountinfo | sort -r); do umount -l "$m"; done
	rm -rf "$work"
}
trap cleanup EXIT
rm -rf "$work"
mkdir -p "$work"

# The image: busybox-static's rootfs, as a tarball.
HAKO=$repo/bin/hako "$repo/scripts/mkbundle.sh" "$work/bundle" >/dev/null
tar -C "$work/bundle/rootfs" -cf "$work/rootfs.tar" .

# hk, private roots.
hk_() { "$hk" --root "$work/hk" --runroot "$work/hkrun" "$@"; }
hk_ import "$work/rootfs.tar" bench:1 >/dev/null
hk_ok=1

# podman, private storage and configuration (no network, cgroupfs, file events).
mkdir -p "$work/podman"
# ulimits podman may set here: the host's hard limits (unlimited nproc is
# capped at pid_max, as tests/engines does).
nproc=$(ulimit -Hu)
if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$(cat /proc/sys/kernel/pid_max)" ]; then nproc=$(cat /proc/sys/kernel/pid_max); fi
cat >"$work/podman/containers.conf" <<C
[containers]
netns = "none"
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/podman/events.log"
lock_type = "file"
tmp_dir = "$work/podman/tmp"
static_dir = "$work/podman/storage/libpod"
volume_path = "$work/podman/storage/volumes"
C
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' "$work/podman/storage" "$work/podman/run" >"$work/podman/storage.conf"
: >"$work/podman/registries.conf"
podman_() {
	CONTAINERS_CONF=$work/podman/containers.conf CONTAINERS_STORAGE_CONF=$work/podman/storage.conf \
		CONTAINERS_REGISTRIES_CONF=$work/podman/registries.conf \
		podman --root "$work/podman/storage" --runroot "$work/podman/run" --cgroup-manager cgroupfs --events-backend file "$@"
}
podman_ import "$work/rootfs.tar" localhost/bench:1 >/dev/null
podman_ok=1

# dockerd, private everything, in a network namespace of its own (its
# bridge never touches the host's).
mkdir -p "$work/docker"
cat >"$work/docker/daemon.json" <<D
{"exec-opts": ["native.cgroupdriver=cgroupfs"], "data-root": "$work/docker/data", "exec-root": "$work/docker/exec",
 "pidfile": "$work/docker/docker.pid", "hosts": ["unix://$work/docker/docker.sock"], "storage-driver": "overlay2",
 "deprecated-key-path": "$work/docker/key.json", "cgroup-parent": "/hk-bench-docker"}
D
TMPDIR=$work/docker unshare -n dockerd --config-file "$work/docker/daemon.json" >"$work/docker/dockerd.log" 2>&1 &
dpid=$!
docker_() { DOCKER_CONFIG=$work/docker/cli docker -H "unix://$work/docker/docker.sock" "$@"; }
for _ in $(seq 100); do docker_ version >/dev/null 2>&1 && break; sleep 0.1; done
nsenter --net=/proc/$dpid/ns/net ip link set lo up # -p 127.0.0.1:... binds there
docker_ import "$work/rootfs.tar" bench:1 >/dev/null

# One round: each tool once, in a rotating order, wall time in ms.
ms() { local a b; a=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "bench hk: $* failed" >&2; exit 1; }; b=$(date +%s%N); echo $(((b - a) / 1000)); }
: >"$work/times"
for ((i = 0; i < n; i++)); do
	for t in hk podman docker; do
		case $t in
		hk) echo "hk $(ms hk_ run --rm --network none bench:1 true)" ;;
		podman) echo "podman $(ms podman_ run --rm --network none localhost/bench:1 true)" ;;
		docker) echo "docker $(ms docker_ run --rm --network none bench:1 true)" ;;
		esac
	done >>"$work/times"
done

# The bridge rows: run --rm on the default bridge, and run -d -p to the
# first connect (bash's /dev/tcp, polled; the container removed after).
up_ms() { # up_ms NETNS-PREFIX PORT RM-CMD -- RUN-CMD...
	local pre=$1 port=$2 rmc=$3 a b
	shift 4
	a=$(date +%s%N)
	"$@" >/dev/null 2>"$work/up.err" || { echo "bench hk: $* failed: $(cat "$work/up.err")" >&2; exit 1; }
	for _ in $(seq 2000); do $pre bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && break; done
	b=$(date +%s%N)
	$rmc >/dev/null 2>&1
	echo $(((b - a) / 1000))
}
dnet="nsenter --net=/proc/$dpid/ns/net"
: >"$work/net"
for ((i = 0; i < n; i++)); do
	for t in hk podman docker; do
		case $t in
		hk) echo "hk bridge $(ms hk_ run --rm --network bridge bench:1 true)" ;;
		podman) echo "podman bridge $(ms podman_ run --rm --network bridge localhost/bench:1 true)" ;;
		docker) echo "docker bridge $(ms docker_ run --rm --network bridge bench:1 true)" ;;
		esac
		p=$((20000 + i))
		case $t in
		hk) echo "hk publish $(up_ms "" $p "hk_ rm -f pub" -- hk_ run -d --name pub -p 127.0.0.1:$p:80 bench:1 httpd -f -p 80 -h /)" ;;
		podman) echo "podman publish $(up_ms "" $p "podman_ rm -f -t 0 pub" -- podman_ run -d --name pub --network bridge -p 127.0.0.1:$p:80 localhost/bench:1 httpd -f -p 80 -h /)" ;;
		docker) echo "docker publish $(up_ms "$dnet" $p "docker_ rm -f pub" -- docker_ run -d --name pub -p 127.0.0.1:$p:80 bench:1 httpd -f -p 80 -h /)" ;;
		esac
	done >>"$work/net"
done

# TCP throughput through each tool's default bridge (iperf-lib.sh):
# host -> container through a published port, container -> host to the
# bridge's gateway address; IPERF_N rounds (3) of IPERF_T seconds (3).
. "$repo/scripts/bench/iperf-lib.sh"
gw() { nsenter -t "$1" -n ip -4 route show default | awk '{print $3; exit}'; }
: >"$work/iperf"
for ((i = 0; i < ${IPERF_N:-3}; i++)); do
	hk_ run -d --name ip3 -p 127.0.0.1:21201:5201 bench:1 sleep 600 >/dev/null
	pid=$(hk_ inspect -f '{{.State.Pid}}' ip3)
	iperf_rows "hk (veth)" "$pid" "" 21201 "$(gw "$pid")" >>"$work/iperf"
	hk_ rm -f ip3 >/dev/null
	podman_ run -d --name ip3 --network bridge -p 127.0.0.1:21202:5201 localhost/bench:1 sleep 600 >/dev/null
	pid=$(podman_ inspect -f '{{.State.Pid}}' ip3)
	iperf_rows podman "$pid" "" 21202 "$(gw "$pid")" >>"$work/iperf"
	podman_ rm -f -t 0 ip3 >/dev/null
	docker_ run -d --name ip3 -p 127.0.0.1:21203:5201 bench:1 sleep 600 >/dev/null
	pid=$(docker_ inspect -f '{{.State.Pid}}' ip3)
	iperf_rows docker "$pid" "$dnet" 21203 "$(gw "$pid")" >>"$work/iperf"
	docker_ rm -f ip3 >/dev/null
done
hk_ network prune >/dev/null

# The monitors: one detached container each, memory of its monitor.
mem() { awk '/^(Rss|Pss):/ {printf "%s %s ", $1, $2}' "/proc/$1/smaps_rollup"; }
hk_ run -d --name mon --network none bench:1 sleep 60 >/dev/null
hkmon=$(awk '/^PPid:/ {print $2}' "/proc/$(hk_ inspect -f '{{.State.Pid}}' mon)/status")
podman_ run -d --name mon localhost/bench:1 sleep 60 >/dev/null
conmon=$(podman_ inspect -f '{{.State.ConmonPid}}' mon)
echo "hako-mon $(mem "$hkmon")" >"$work/mem"
echo "conmon $(mem "$conmon")" >>"$work/mem"

if grep -qv ' [0-9][0-9]*$' "$work/times" "$work/net"; then echo "bench hk: some runs failed" >&2; exit 1; fi
python3 - "$work/times" "$work/mem" "$n" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" "$work/net" <<'PY'
import statistics, sys
times, mem, n, cpus, load, net = sys.argv[1:]
by = {}
for line in open(times):
    t, us = line.split()
    by.setdefault(t, []).append(int(us) / 1000)
print(f"### hk against podman and Docker: `run --rm IMAGE true`, no network (N={n}, {cpus} CPUs, load {load})\n")
print("| tool | median ms | mean ms | min ms | vs hk (median) |")
print("|---|---|---|---|---|")
hk = statistics.median(by["hk"])
for t in ("hk", "podman", "docker"):
    v = by[t]
    print(f"| {t} | {statistics.median(v):.1f} | {statistics.mean(v):.1f} | {min(v):.1f} | {statistics.median(v)/hk:.1f}x |")
nets = {}
for line in open(net):
    t, row, us = line.split()
    nets.setdefault(row, {}).setdefault(t, []).append(int(us) / 1000)
for row, title in (("bridge", "`run --rm --network bridge IMAGE true`: each tool's default bridge"),
                   ("publish", "`run -d -p 127.0.0.1:PORT:80 IMAGE httpd` to the first TCP connect on that port")):
    print(f"\n### {title} (N={n})\n")
    print("| tool | median ms | mean ms | min ms | vs hk (median) |")
    print("|---|---|---|---|---|")
    base = statistics.median(nets[row]["hk"])
    for t in ("hk", "podman", "docker"):
        v = nets[row][t]
        print(f"| {t} | {statistics.median(v):.1f} | {statistics.mean(v):.1f} | {min(v):.1f} | {statistics.median(v)/base:.1f}x |")
print("\n### The monitor per detached container (kB, /proc/PID/smaps_rollup)\n")
print("| monitor | RSS | PSS |")
print("|---|---|---|")
for line in open(mem):
    f = line.split()
    print(f"| {f[0]} | {f[2]} | {f[4]} |")
PY
echo
echo "### TCP throughput, root: each tool's default bridge (iperf3 -t ${IPERF_T:-3}, median of ${IPERF_N:-3})"
echo
iperf_table "$work/iperf"
