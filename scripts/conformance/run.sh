#!/usr/bin/env bash
# Run the OCI runtime-tools validation suite against a runtime and print a
# markdown report (per-test ok / not ok / skip counts, then every not-ok line).
#
# usage: scripts/conformance/run.sh RUNTIME [FILTER-REGEX]
#
#   RUNTIME       path or name of a runc-compatible runtime (bin/hako, runc, crun)
#   FILTER-REGEX  extended regex; only validation tests whose name matches run
#
# environment:
#   TEST_TIMEOUT=60     seconds one validation program may take before it is killed
#   HIDE_UNIFIED=1      run in a private mount namespace where
#                       /sys/fs/cgroup/unified/cgroup.controllers reads empty
#                       (crun 1.8 refuses this host's hybrid cgroup layout otherwise)
#   CONFORMANCE_CACHE   where the suite is built and results go
#                       (default: <repo>/.cache/conformance)
#
# Exit status: 0 when the suite ran, whatever it found (this is a report);
# non-zero only when the harness itself failed (build, bad arguments, ...).
#
# Needs root, go, perl, util-linux (unshare, mount), coreutils (timeout).
set -eEuo pipefail
# set -e alone would end the run without a word.
trap 'echo "conformance: harness failed at line $LINENO: $BASH_COMMAND" >&2' ERR

# @latest resolves to an old 2019 tag; this pseudo-version is the 2025 tree
# whose tests match runtime-spec 1.1+.
RT_MOD=github.com/opencontainers/runtime-tools
RT_VER=v0.9.1-0.20250523060157-0ea5ed0382a2

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${CONFORMANCE_CACHE:-$repo/.cache/conformance}
suite=$cache/runtime-tools@$RT_VER
timeout_s=${TEST_TIMEOUT:-60}

die() { echo "conformance: $*" >&2; exit 2; }

[[ $# -ge 1 && $# -le 2 ]] || die "usage: $0 RUNTIME [FILTER-REGEX]"
[[ $(id -u) == 0 ]] || die "must run as root (the suite creates real containers)"

# The validation programs exec $RUNTIME from their own cwd (the suite dir),
# so a relative path must be made absolute; a bare name is looked up in PATH.
runtime=$1
filter=${2:-.}
if [[ $runtime == */* ]]; then
	runtime=$(realpath --no-symlinks -- "$runtime")
else
	runtime=$(command -v "$runtime") || die "runtime $1 not found in PATH"
fi
[[ -x $runtime ]] || die "runtime $runtime is not executable"

# Re-exec once, so that the rest of the script runs
#  - as a child subreaper (prctl PR_SET_CHILD_SUBREAPER, kept across exec):
#    container processes that a runtime daemonizes, and helpers a killed test
#    leaves behind, are re-parented to this shell instead of to PID 1. So
#    "our children once a test has exited" is exactly what the test leaked,
#    and we can kill those without touching anyone else's processes; and
#  - with HIDE_UNIFIED=1, in a private mount namespace, so the bind mount
#    that hides the cgroup2 controllers is never seen by the rest of the host.
if [[ -z ${_CONFORMANCE_INNER:-} ]]; then
	export _CONFORMANCE_INNER=1
	ns=()
	[[ ${HIDE_UNIFIED:-0} == 1 ]] && ns=(unshare --mount --propagation private)
	exec "${ns[@]}" perl -e 'require "syscall.ph";
		syscall(&SYS_prctl, 36, 1) == 0 or die "prctl(PR_SET_CHILD_SUBREAPER): $!\n";
		exec @ARGV or die "exec: $!\n"' -- "$BASH" "${BASH_SOURCE[0]}" "$@"
fi

# ---------------------------------------------------------------- build ---

# build_suite copies the module source out of the read-only module cache and
# builds every validation program plus runtimetest into it. The tests expect
# rootfs-$GOARCH.tar.gz and runtimetest in their cwd, as runtime-tools'
# `make localvalidation` runs them from the module root.
build_suite() {
	[[ -f $suite/.built ]] && return
	echo "conformance: building runtime-tools $RT_VER into $suite" >&2
	local mod src
	# go mod download needs a module to run in; an empty scratch one will do.
	mod=$(mktemp -d)
	(cd "$mod" && go mod init scratch >/dev/null 2>&1)
	src=$(cd "$mod" && GOFLAGS=-mod=mod go mod download -json "$RT_MOD@$RT_VER" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	rm -rf "$mod"
	[[ -d $src ]] || die "go mod download $RT_MOD@$RT_VER gave no source dir"

	rm -rf "$suite.tmp"
	cp -r "$src" "$suite.tmp"
	chmod -R u+w "$suite.tmp"
	# The module zip keeps vendor/modules.txt but none of the vendored code;
	# drop it and build with -mod=mod against go.sum instead.
	rm -rf "$suite.tmp/vendor"
	(
		cd "$suite.tmp"
		export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false"
		go build -o bin/ ./validation/...
		# runtimetest runs inside the test rootfs (busybox, no libc to
		# speak of): it must be static, as the module's Makefile builds it.
		go build -tags "netgo osusergo" -o runtimetest ./cmd/runtimetest
	) >&2
	echo "$RT_VER" >"$suite.tmp/.built"
	rm -rf "$suite"
	mv "$suite.tmp" "$suite"
}

mkdir -p "$cache"
# Two runs at once must not both build into $suite.tmp.
exec 9>"$cache/build.lock"
flock 9
build_suite
flock -u 9

# ---------------------------------------------------------- environment ---

if [[ ${HIDE_UNIFIED:-0} == 1 ]]; then
	[[ -f /sys/fs/cgroup/unified/cgroup.controllers ]] ||
		die "HIDE_UNIFIED=1 but this host has no /sys/fs/cgroup/unified"
	: >"$cache/empty"
	mount --bind "$cache/empty" /sys/fs/cgroup/unified/cgroup.controllers
fi

# A work dir per run: tmp/ is the TMPDIR the tests make their bundles in
# (os.MkdirTemp), so "under $scratch" marks the mounts and files a run made;
# runtime is a wrapper that logs each call, so we know the ids of the
# containers a test made without asking the runtime to list all it has
# (other people's containers included).
work=$(mktemp -d "${TMPDIR:-/tmp}/hako-conformance.XXXXXX")
scratch=$work/tmp
mkdir "$scratch"
# mktemp -d makes 0700; a user namespace's root must be able to traverse
# these, as it can /tmp, so that only the suite's own modes matter.
chmod 755 "$work" "$scratch"
wrapper=$work/runtime
cat >"$wrapper" <<EOF
#!/bin/bash
printf '%s\n' "\$*" >>"\$CONFORMANCE_CALLS"
exec $(printf %q "$runtime") "\$@"
EOF
chmod +x "$wrapper"
: >"$work/calls"
results=$cache/results/$(basename "$runtime")
mkdir -p "$results"

# ------------------------------------------------------------- cleanup ---

# our_children prints the pids whose parent is this shell. Between tests
# nothing of ours runs, so each is a leftover (or a re-parented orphan).
# Pure bash, no fork: a forked helper would be a child too.
our_children() {
	local f stat rest ppid
	for f in /proc/[0-9]*/stat; do
		read -r stat 2>/dev/null <"$f" || continue
		rest=${stat##*) } # comm may hold spaces and parens
		read -r _ ppid _ <<<"$rest"
		[[ $ppid == "$$" && ${f//[^0-9]/} != "$BASHPID" ]] && echo "${f//[^0-9]/}"
	done
	return 0
}

# our_containers prints the ids of containers created in the calls logged
# in $1 that the runtime still knows (`state` succeeds).
our_containers() {
	local id
	while read -r id; do
		timeout 10 "$runtime" state "$id" >/dev/null 2>&1 </dev/null && echo "$id"
	done < <(created_ids "$1")
	return 0
}

# created_ids prints the container ids passed to `create` in the calls
# logged in $1 (the id is the last argument; skip calls without one).
created_ids() { awk '$1 == "create" && $NF !~ /^[-\/]/ { print $NF }' "$1" | sort -u; }

# our_mounts prints mount points under the scratch dir, deepest first.
our_mounts() {
	awk -v d="$scratch/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# find fails when a cgroup vanishes under it, as they do while runtimes
# tear containers down; the listing is still good enough.
cgroup_dirs() { { find /sys/fs/cgroup -mindepth 2 -type d 2>/dev/null || true; } | sort; }

# sweep removes what the last test left behind and sets $leak to a note on
# it. $1: calls the test made to the runtime; $2: cgroup dirs that existed
# before the test; $3: file that gets the details. It must run in this
# shell, not in $(...): a subshell would be one of our_children itself.
declare -A charged
sweep() {
	local calls=$1 before=$2 log=$3 note=() pids=() id n p m d
	leak=
	: >"$log"

	# Containers first: the runtime's own delete also frees its state dir
	# and cgroups. A container whose delete fails is tried again after
	# later tests, but is charged only to the first.
	n=0
	for id in $(our_containers "$calls"); do
		timeout 10 "$runtime" delete --force "$id" >/dev/null 2>&1 || true
		[[ -n ${charged[$id]:-} ]] && continue
		charged[$id]=1
		echo "container $id" >>"$log"
		n=$((n + 1))
	done
	((n)) && note+=("$n containers")

	# Processes: SIGKILL whatever was re-parented to us. A killed parent's
	# children come to us in turn, hence the loop; bash reaps them.
	n=0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		mapfile -t pids < <(our_children)
		((${#pids[@]})) || break
		for p in "${pids[@]}"; do
			echo "process $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" >>"$log"
		done
		n=$((n + ${#pids[@]}))
		kill -KILL "${pids[@]}" 2>/dev/null || true
		sleep 0.2
	done
	((n)) && note+=("$n processes")

	n=0
	for m in $(our_mounts); do
		echo "mount $m" >>"$log"
		umount -l "$m" 2>/dev/null && n=$((n + 1))
	done
	((n)) && note+=("$n mounts")

	# Cgroups that appeared during the test, named after one of its
	# containers or with the suite's fixed paths (/cgrouptest and
	# testdir/cgrouptest/container); rmdir fails on a busy one, fine.
	# runc and crun remove the leaf they made but not its parents, so a
	# relative cgroupsPath always leaves testdir and testdir/cgrouptest.
	# Counted once across the v1 hierarchies.
	local -A cg=() ids=()
	while read -r id; do ids[$id]=1; done < <(created_ids "$calls")
	for d in $(comm -13 <(echo "$before") <(cgroup_dirs) | sort -r); do
		if [[ $d =~ /((testdir|cgrouptest)(/.*)?)$ ]]; then
			id=${BASH_REMATCH[1]}
		elif [[ -n ${ids[${d##*/}]:-} ]]; then
			id=${d##*/}
		else
			continue
		fi
		echo "cgroup $d" >>"$log"
		rmdir "$d" 2>/dev/null && cg[$id]=1
	done
	((${#cg[@]})) && note+=("${#cg[@]} cgroups")

	# --one-file-system: never follow a mount we failed to remove into the host.
	rm -rf --one-file-system "${scratch:?}"/* 2>/dev/null || true
	((${#note[@]} == 0)) || leak="leaked $(printf '%s, ' "${note[@]}")"
	leak=${leak%, }
}

finish() {
	local left
	sweep "$work/calls" "$(cgroup_dirs)" /dev/null
	left=$(our_containers "$work/calls")
	[[ -z $left ]] || echo "conformance: $(basename "$runtime") still has containers it failed to delete: ${left//$'\n'/ }" >&2
	rm -rf --one-file-system "$work" 2>/dev/null || true
	# hako keeps its /hako parent cgroups between containers; leave none.
	rmdir /sys/fs/cgroup/*/hako /sys/fs/cgroup/hako 2>/dev/null || true
}
trap finish EXIT

# ------------------------------------------------------------------ run ---

# tap_counts prints "ok notok skip planned error" for one TAP stream. Only
# unindented lines count: a test's YAML diagnostics quote runtimetest's own
# TAP output, indented. Several tests (hooks, prestart, poststart, ...) emit
# no test point at all and report a failure only as a YAML block with an
# "error" key right after the header; "error" is the first such message, or
# "-". (Descriptions may run over several lines, "Refer to: ..." in state:
# a YAML block after those still belongs to its test point.)
tap_counts() {
	awk '
		/^TAP version/                    { point = 0; next }
		/^ok / && tolower($0) ~ /# *skip/ { skip++; point = 1; next }
		/^ok /                            { ok++; point = 1; next }
		/^not ok /                        { notok++; point = 1; next }
		/^1\.\.[0-9]+/                    { plan = 1; point = 0; next }
		/^  ---/                          { orphan = !point; next }
		/^  \.\.\./                        { orphan = 0; point = 0; next }
		orphan && err == "" && /"error":/ {
			err = $0; sub(/^ *"error": *"/, "", err); sub(/\\n.*|",?$/, "", err)
		}
		END { printf "%d %d %d %d %s\n", ok, notok, skip, plan, (err == "" ? "-" : err) }' "$1"
}

# judge sets ok/notok/skip and note[] for test $1 from its TAP, its exit
# status $2 and its stderr, and appends its failures to $failures.
#
# Several validation programs give their verdict outside TAP test points:
# the hook tests print only a YAML "error" block, the *_fail tests exit 0 (the
# runtime rejected a bad config, as it must) or 1 (it did not), and a runtime
# that fails `create` makes most tests exit 1 with no TAP. Each such verdict
# is counted here as one test point, so the totals show it; it is marked
# "(verdict)" in the note column.
judge() {
	local t=$1 rc=$2 tap=$results/$1.tap plan err why=
	read -r ok notok skip plan err < <(tap_counts "$tap")
	note=()
	if ((rc == 124 || rc == 137)); then
		why="timeout after ${timeout_s}s"
	elif ((rc != 0)); then
		why="exit $rc"
	elif [[ $err != - ]]; then
		why="error"
	elif [[ ! -s $tap && $t != *_fail ]]; then
		# A positive RuntimeInsideValidate test whose runtimetest printed
		# nothing exits 0 with no output: the runtime lost its stdout.
		why="no output"
	fi
	if [[ -n $why ]]; then
		notok=$((notok + 1))
		note+=("not ok (verdict): $why")
		# stderr starts with e.g. "failed to create the container", then
		# the runtime's own message: show both.
		[[ $err != - ]] || err=$(grep -m2 -v '^[[:space:]]*$' "$results/$t.stderr" | paste -sd'|' | cut -c1-300 || true)
		err=${err//|/ | }
		echo "- **$t**: not ok (verdict) - $why${err:+: $err}" >>"$failures"
	elif ((ok + notok + skip == 0)); then
		ok=1
		note+=("ok (verdict)")
	fi
	((plan)) || [[ ! -s $tap ]] || note+=("no TAP plan")
	grep '^not ok ' "$tap" | sed "s|^|- **$t**: |" >>"$failures" || true
	return 0
}

tests=()
for f in "$suite"/bin/*; do
	[[ ${f##*/} =~ $filter ]] && tests+=("${f##*/}")
done
((${#tests[@]})) || die "no validation test matches /$filter/"

table=$(mktemp)
failures=$(mktemp)
trap 'finish; rm -f "$table" "$failures"' EXIT
# Without these, a signal would end bash without running the EXIT trap.
trap 'exit 130' INT
trap 'exit 143' TERM
tot_ok=0 tot_notok=0 tot_skip=0 leaky=0
start=$SECONDS

for t in "${tests[@]}"; do
	before=$(cgroup_dirs)
	t0=$SECONDS
	# cwd = suite root: the tests open rootfs-amd64.tar.gz and runtimetest
	# relative to it. timeout kills the test's process group; what escaped
	# the group (daemonized containers) is left to sweep.
	rc=0
	: >"$results/$t.calls"
	(cd "$suite" && RUNTIME=$wrapper TMPDIR=$scratch CONFORMANCE_CALLS=$results/$t.calls \
		timeout -k 5 "$timeout_s" "bin/$t") >"$results/$t.tap" 2>"$results/$t.stderr" </dev/null || rc=$?
	secs=$((SECONDS - t0))
	cat "$results/$t.calls" >>"$work/calls"
	sweep "$results/$t.calls" "$before" "$results/$t.leaks"
	[[ -s $results/$t.leaks ]] || rm -f "$results/$t.leaks"

	judge "$t" "$rc"
	[[ -n $leak ]] && note+=("$leak") && leaky=$((leaky + 1))
	tot_ok=$((tot_ok + ok)) tot_notok=$((tot_notok + notok)) tot_skip=$((tot_skip + skip))
	note_s=$(printf '%s; ' "${note[@]}")
	note_s=${note_s%; }
	printf '| %s | %d | %d | %d | %ds | %s |\n' "$t" "$ok" "$notok" "$skip" "$secs" "$note_s" >>"$table"
	printf 'conformance: %-32s ok=%-3d not-ok=%-3d skip=%-3d %3ds %s\n' "$t" "$ok" "$notok" "$skip" "$secs" "$note_s" >&2
done

{
	echo "## $(basename "$runtime"): $("$runtime" --version 2>/dev/null | head -1 || true)"
	echo
	echo "runtime-tools $RT_VER, ${#tests[@]} tests, $((SECONDS - start)) s, $(date -u +%Y-%m-%dT%H:%MZ)"
	echo
	echo "| test | ok | not ok | skip | time | note |"
	echo "|---|---:|---:|---:|---:|---|"
	cat "$table"
	echo "| **total** | **$tot_ok** | **$tot_notok** | **$tot_skip** | $((SECONDS - start))s | $leaky tests leaked |"
	echo
	echo "### not ok"
	echo
	if [[ -s $failures ]]; then cat "$failures"; else echo "none"; fi
} | tee "$results/summary.md"
echo "conformance: raw TAP in $results" >&2
