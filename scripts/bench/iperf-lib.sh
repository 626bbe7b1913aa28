# iperf-lib.sh: sourced by scripts/bench/hk.sh and
# scripts/sysvm-bench/rootless-net.sh. TCP throughput through a
# container's network with iperf3 (Debian package iperf3): the host's
# iperf3 run inside the container's network namespace (nsenter -n; the
# busybox image has none), so the path measured is the container's own:
# veth, bridge and NAT as root; the tap and the user-mode helper
# rootless.

# gbps: the received rate of an iperf3 -J report on stdin, in Gbit/s.
gbps() { python3 -c 'import json, sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'; }

# listening PREFIX PORT: wait (10 s at most) until a TCP socket listens on
# PORT where PREFIX (a command prefix: "" or "nsenter -t PID -n") runs.
listening() {
	local i
	for i in $(seq 100); do
		$1 ss -Hltn "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	echo "iperf: nothing listens on port $2 after 10 s" >&2
	return 1
}

# iperf_rows TOOL CTRPID HOSTPREFIX HOSTPORT HOSTADDR prints two rows:
#   TOOL host->ctr GBPS  client on the host to 127.0.0.1:HOSTPORT, the
#                        port published to the container's 5201;
#   TOOL ctr->host GBPS  client in the container to HOSTADDR:5202, an
#                        address of the host the container can reach.
# HOSTPREFIX runs the host's side elsewhere ("nsenter --net=..." for a
# dockerd in a namespace of its own). Each run lasts IPERF_T seconds (3).
iperf_rows() {
	local tool=$1 pid=$2 pre=$3 hp=$4 addr=$5 t=${IPERF_T:-3} d
	d=$(mktemp -d)
	nsenter -t "$pid" -n iperf3 -s -p 5201 -D -I "$d/s1.pid"
	listening "nsenter -t $pid -n" 5201
	echo "$tool host->ctr $($pre iperf3 -c 127.0.0.1 -p "$hp" -t "$t" -J | gbps)"
	kill "$(cat "$d/s1.pid")"
	$pre iperf3 -s -B "$addr" -p 5202 -D -I "$d/s2.pid"
	listening "$pre" 5202
	echo "$tool ctr->host $(nsenter -t "$pid" -n iperf3 -c "$addr" -p 5202 -t "$t" -J | gbps)"
	kill "$(cat "$d/s2.pid")"
	rm -rf "$d"
}

# iperf_table FILE prints FILE's rows (TOOL DIRECTION GBPS, several
# rounds) as a markdown table of medians, each against the first tool's.
iperf_table() {
	python3 - "$1" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    tool, d, g = line.rsplit(None, 2)
    rows.setdefault(tool, {}).setdefault(d, []).append(float(g))
tools = list(rows)
print("| tool | host -> ctr (published port), Gbit/s | vs first | ctr -> host, Gbit/s | vs first |")
print("|---|---|---|---|---|")
base = {d: statistics.median(rows[tools[0]][d]) for d in ("host->ctr", "ctr->host")}
for t in tools:
    m = {d: statistics.median(rows[t][d]) for d in ("host->ctr", "ctr->host")}
    print(f"| {t} | {m['host->ctr']:.2f} | {m['host->ctr'] / base['host->ctr']:.2f}x | {m['ctr->host']:.2f} | {m['ctr->host'] / base['ctr->host']:.2f}x |")
PY
}
