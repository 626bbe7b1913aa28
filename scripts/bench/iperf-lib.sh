# iperf-lib.sh: sourced by scripts/bench/hk.sh and
# scripts/sysvm-bench/rootless-net.sh. TCP throughput through a
# container's network with iperf3 (Debian package iperf3): the host's
# iperf3 run inside the container's network namespace (nsenter -n; the
# busybox image has none), so the path measured is the container's own:
# veth, bridge and NAT as root; the tap and the user-mode helper
# rootless. Needs ss (iproute2), iperf3, nsenter, awk.

# gbps: the receiver's rate of an `iperf3 -f g` report on stdin, in
# Gbit/s (awk, not JSON: the VM has no python3).
gbps() { awk '/receiver/ {r = $(NF - 2)} END {if (r == "") exit 1; print r}'; }

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
	echo "$tool host->ctr $($pre iperf3 -c 127.0.0.1 -p "$hp" -t "$t" -f g | gbps)"
	kill "$(cat "$d/s1.pid")"
	$pre iperf3 -s -B "$addr" -p 5202 -D -I "$d/s2.pid"
	listening "$pre" 5202
	echo "$tool ctr->host $(nsenter -t "$pid" -n iperf3 -c "$addr" -p 5202 -t "$t" -f g | gbps)"
	kill "$(cat "$d/s2.pid")"
	rm -rf "$d"
}

# median: the median of the numbers on stdin, one a line.
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }

# iperf_table FILE prints FILE's rows (TOOL... DIRECTION GBPS, several
# rounds) as a markdown table of medians, each against the first tool's.
iperf_table() {
	local tools tool h c h0 c0
	tools=$(awk '{NF -= 2; print}' "$1" | awk '!seen[$0]++')
	echo "| tool | host -> ctr (published port), Gbit/s | vs first | ctr -> host, Gbit/s | vs first |"
	echo "|---|---|---|---|---|"
	while IFS= read -r tool; do
		h=$(awk -v t="$tool" '{d = $(NF - 1); g = $NF; NF -= 2} $0 == t && d == "host->ctr" {print g}' "$1" | median)
		c=$(awk -v t="$tool" '{d = $(NF - 1); g = $NF; NF -= 2} $0 == t && d == "ctr->host" {print g}' "$1" | median)
		[ -n "${h0:-}" ] || { h0=$h c0=$c; }
		awk -v t="$tool" -v h="$h" -v c="$c" -v h0="$h0" -v c0="$c0" \
			'BEGIN {printf "| %s | %.2f | %.2fx | %.2f | %.2fx |\n", t, h, h / h0, c, c / c0}'
	done <<<"$tools"
}
