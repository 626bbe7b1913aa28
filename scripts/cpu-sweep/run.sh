#!/usr/bin/env bash
# run.sh (`make cpu-sweep`): the CPU-limit experiment. A CPU-bound program
# (spin.c) runs in a hako container while the CFS quota is swept over a
# 100 ms period; its run time must follow the ideal 1/quota curve: twice the
# quota, half the time. What it shows and why: docs/cgroups.md.
#
#   scripts/cpu-sweep/run.sh [HAKO]   HAKO: the binary (default bin/hako)
#   SWEEP_WORK=2                      CPU seconds of work per worker
#   SWEEP_DOCS=0                      print the table only, leave docs/ alone
#
# Writes docs/cpu-sweep.png and the table into docs/cgroups.md (between the
# cpu-sweep markers). Scratch files stay in .cache/cpu-sweep/. Needs root.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
hako=$(realpath "${1:-$repo/bin/hako}")
work=$repo/.cache/cpu-sweep
bundle=$work/bundle
root=$work/root
python=/usr/bin/python3 # Debian's, the one python3-matplotlib installs into
cpu_work=${SWEEP_WORK:-2}
period=100000 # µs: the 100 ms CFS period of the experiment

[ "$(id -u)" = 0 ] || { echo "cpu-sweep: needs root" >&2; exit 1; }
load=$(cut -d' ' -f1-3 /proc/loadavg) # the host is shared: say how busy it was
HAKO_DEPS_EXTRA="gcc libc6-dev python3-matplotlib" "$repo/scripts/deps.sh"

rm -rf "$work"
mkdir -p "$work"
HAKO=$hako "$repo/scripts/mkbundle.sh" "$bundle" >/dev/null
gcc -static -O2 -Wall -Wextra -o "$bundle/rootfs/bin/spin" "$repo/scripts/cpu-sweep/spin.c"

# Every container gets a unique ID; whatever is left at exit is deleted.
ids=()
cleanup() {
	for id in "${ids[@]}"; do
		"$hako" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT

# spin_in QUOTA_PCT WORKERS ITERATIONS: one container run; prints "wall cpu".
# QUOTA_PCT 0 means no quota. The cgroup sits at the top of each hierarchy with the
# largest cpu.shares, so on a busy shared host the neighbours take little
# from it and the quota alone limits it (shares divide CPU among siblings).
spin_in() {
	local id=cpu-sweep-$$-${#ids[@]}
	ids+=("$id")
	"$python" - "$bundle/config.json" "$id" "$3" "$2" "$1" "$period" <<'PY'
import json, sys
path, cid, iters, workers, pct, period = sys.argv[1:]
s = json.load(open(path))
s["process"]["terminal"] = False
s["process"]["args"] = ["/bin/spin", iters, workers]
s["linux"]["cgroupsPath"] = "/" + cid
cpu = {"shares": 262144}
if int(pct):
    cpu.update(quota=int(pct) * int(period) // 100, period=int(period))
s["linux"].setdefault("resources", {})["cpu"] = cpu
json.dump(s, open(path, "w"), indent=1)
PY
	"$hako" --root "$root" run --bundle "$bundle" "$id"
}

# Iterations for cpu_work CPU seconds, calibrated in a container like the
# measured runs, with the same weight against the host's other jobs. %.0f:
# mawk's %d stops at 2^31-1.
read -r _ cal < <(spin_in 0 1 300000000)
iters=$(awk -v w="$cpu_work" -v c="$cal" 'BEGIN { printf "%.0f", 300000000 * w / c }')

results=$work/results.tsv
printf 'quota_pct\tworkers\twall_s\tcpu_s\n' >"$results"
record() { # QUOTA_PCT WORKERS
	local wall cpu
	read -r wall cpu < <(spin_in "$1" "$2" "$iters")
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$wall" "$cpu" | tee -a "$results"
}

echo "cpu-sweep: $iters iterations per worker (~${cpu_work} CPU s), period ${period} µs; quota_pct workers wall_s cpu_s:"
for _ in 1 2 3; do record 0 1; done # the unlimited baseline
for pct in 10 20 40 80 100; do record "$pct" 1; done
record 200 4 # 4 workers, quota of 2 CPUs
record 100 4 # 4 workers, quota of 1 CPU

docs=()
[ "${SWEEP_DOCS:-1}" = 1 ] && docs=(--png "$repo/docs/cpu-sweep.png" --md "$repo/docs/cgroups.md")
"$python" "$repo/scripts/cpu-sweep/report.py" "$results" --period "$period" \
	--host "$(nproc) CPUs, Linux $(uname -r), load average at start $load" "${docs[@]}"
