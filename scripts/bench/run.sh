#!/usr/bin/env bash
# run.sh (`make bench`): hako against runc, crun and a C floor, side by side.
# What is measured and how: docs/benchmarks.md. The work is done by bench.py;
# this script prepares for it and files the result.
#
#   scripts/bench/run.sh             full run (N=100); files it in docs/benchmarks.md
#                                    (replaces the latest run and docs/bench.png, adds
#                                    a history row: scripts/bench/file.py)
#   BENCH_N=20 scripts/bench/run.sh  quick check; prints the table, leaves docs/ alone
#                                    (BENCH_APPEND=1 files it anyway)
#   HAKO=path/to/hako                another hako binary (default: build bin/hako)
#
# Needs root on Debian. Scratch files, logs and raw samples (JSON) stay in
# .cache/bench/.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bench=$repo/scripts/bench
n=${BENCH_N:-100}
append=${BENCH_APPEND:-$([ -z "${BENCH_N:-}" ] && echo 1 || echo 0)}
hako=${HAKO:-$repo/bin/hako}
cache=$repo/.cache/bench
work=$cache/work
python=/usr/bin/python3 # Debian's, the one python3-matplotlib installs into
stamp=$(date -u +%Y-%m-%d)

[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }

# Debian packages, fetched only when missing (deps.sh checks dpkg first).
HAKO_DEPS_EXTRA="runc crun gcc libc6-dev python3-matplotlib" "$repo/scripts/deps.sh"
# Build unless told which binary to use, so the revision in the report is
# the one measured (a no-op after `make bench`'s own build).
[ -n "${HAKO:-}" ] || make -s -C "$repo" build

rm -rf "$work"
mkdir -p "$work/helpers"
# Static, so their own start-up is as cheap as it gets and maxrss's
# pre-exec pages are few (see the comments at the top of each file).
for helper in floor maxrss warm; do
	gcc -static -O2 -Wall -Wextra -o "$work/helpers/$helper" "$bench/$helper.c"
done
HAKO=$hako "$repo/scripts/mkbundle.sh" "$work/bundle" >/dev/null
: >"$work/empty"

# Every runtime runs in one private mount namespace where the cgroup2 tree of
# this hybrid host lists no controllers: crun 1.8 refuses to run when
# /sys/fs/cgroup/unified/cgroup.controllers is not empty, and all three must
# see the same host. The bind mount dies with the namespace.
in_ns() {
	# shellcheck disable=SC2016 # $0 and $@ are the inner sh's
	unshare -m --propagation private -- sh -c '
		f=/sys/fs/cgroup/unified/cgroup.controllers
		if [ -e "$f" ]; then mount --bind "$0" "$f"; fi
		exec "$@"' "$work/empty" "$@"
}

# The driver runs in the background so that Ctrl-C reaches this script, which
# asks the driver to stop (SIGTERM: it cleans up and exits); whatever a driver
# that died hard left behind is swept on exit, by its pid (unshare and sh exec
# into the driver, so $! is the driver's pid).
driver=
on_exit() {
	[ -z "$driver" ] || in_ns "$python" "$bench/bench.py" --hako "$hako" --work "$work" --sweep "$driver"
	# hako keeps its /hako parent cgroups between containers; the
	# benchmark leaves none behind (a parent still in use stays: EBUSY).
	rmdir /sys/fs/cgroup/*/hako /sys/fs/cgroup/hako 2>/dev/null || true
}
trap on_exit EXIT
trap 'if [ -n "$driver" ]; then kill -TERM "$driver" 2>/dev/null || true; else exit 130; fi' INT TERM

# The chart of the latest filed run is docs/bench.png (earlier ones are in
# git's history); a quick check's stays in .cache/bench.
png=$cache/bench-$stamp.png
[ "$append" = 1 ] && png=$repo/docs/bench.png
rev=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)
# Other work on the machine shows in the numbers (interleaving spreads it
# evenly, it does not remove it): the section records the load.
load_before=$(cut -d' ' -f1 /proc/loadavg)
start=$SECONDS
in_ns "$python" "$bench/bench.py" --hako "$hako" --work "$work" -n "$n" \
	--json "$cache/bench-$(date -u +%Y%m%dT%H%M%S).json" --markdown "$work/table.md" --png "$png" --row "$work/row.md" \
	--title "hako $rev vs runc vs crun, $stamp, N=$n" &
driver=$!
rc=0
# `wait` returns early when a trapped signal arrives; wait again until the
# driver is really gone.
while :; do
	wait "$driver" && rc=0 || rc=$?
	kill -0 "$driver" 2>/dev/null || break
done
[ "$rc" = 0 ] || { echo "bench: driver stopped ($rc); logs in $work" >&2; exit "$rc"; }

runc_v=$(runc --version | head -1 | awk '{print $3}')
crun_v=$(crun --version | head -1 | awk '{print $3}')
section=$work/section.md
{
	echo
	echo "## $stamp: hako $rev, N=$n"
	echo
	echo "Linux $(uname -r), $(nproc) CPUs; runc $runc_v, crun $crun_v; the run took $((SECONDS - start)) s;"
	echo "load average (1 min) $load_before before, $(cut -d' ' -f1 /proc/loadavg) after."
	echo "Cells: median (p95, p99) · ratio of medians against crun."
	echo
	cat "$work/table.md"
	echo
	echo "![hako vs runc vs crun, $stamp](bench.png)"
} >"$section"
cat "$section"
load_after=$(cut -d' ' -f1 /proc/loadavg)
echo "| $stamp | $rev | $n | $load_before / $load_after | $(cat "$work/row.md") |" >"$work/history-row.md"
if [ "$append" = 1 ]; then
	"$python" "$bench/file.py" "$repo/docs/benchmarks.md" "$section" "$work/history-row.md"
	echo "bench: filed in docs/benchmarks.md (latest run, history row); chart: $png" >&2
else
	echo "bench: chart: $png (docs/ untouched; BENCH_APPEND=1 to file it)" >&2
fi
