#!/usr/bin/env bash
# pull.sh (part of `make bench`): `hk pull` against `podman pull` of one
# multi-layer image from Debian's docker-registry on 127.0.0.1, each into an
# empty store, and the check that a second image sharing all but one layer
# fetches only that layer (scripts/bench/pullbench; docs/images.md).
#
#   scripts/bench/pull.sh                   N=10; appends to docs/benchmarks.md
#   BENCH_N=3 scripts/bench/pull.sh         quick look; docs/ untouched
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
n=${BENCH_N:-10}
append=${BENCH_APPEND:-$([ -z "${BENCH_N:-}" ] && echo 1 || echo 0)}
cache=$repo/.cache/bench
stamp=$(date -u +%Y-%m-%d)
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
HAKO_DEPS_EXTRA="podman" "$repo/scripts/deps.sh"
mkdir -p "$cache"
export PATH=/usr/local/go/bin:$PATH
(cd "$repo" && go run ./scripts/bench/pullbench -hk "$repo/bin/hk" -n "$n" -markdown "$cache/pull.md" >/dev/null)
rev=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)
section=$cache/pull-section.md
{
	echo
	echo "## $stamp: hk pull vs podman pull, hako $rev, N=$n"
	echo
	echo "Linux $(uname -r), $(nproc) CPUs; $(podman --version); load average (1 min) $(cut -d' ' -f1 /proc/loadavg)."
	echo
	cat "$cache/pull.md"
} >"$section"
cat "$section"
if [ "$append" = 1 ]; then
	cat "$section" >>"$repo/docs/benchmarks.md"
	echo "bench: appended to docs/benchmarks.md" >&2
fi
