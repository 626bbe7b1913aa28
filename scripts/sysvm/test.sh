#!/usr/bin/env bash
# test.sh: `make systemd-test`. Builds bin/hako and the tests/systemd test
# binary, boots a fresh systemd VM (image.sh, vm.sh), copies both in, runs
# the suite there as root with -test.v, streaming its output, and powers
# the VM off. Exits non-zero on a failed test, a missing result or a
# timeout. The whole run is bounded by HAKO_SYSVM_TIMEOUT (seconds,
# default 1200); the suite itself by HAKO_SYSVM_TEST_TIMEOUT (a Go
# duration, default 15m), so that a hung test ends with its stack dump
# before the run is cut.
#
# Extra arguments go to the test binary, e.g. scripts/sysvm/test.sh
# -test.run Baseline. The serial console of the last run is kept in
# /var/cache/hako/sysvm/test-serial.log. HAKO_SYSVM_SUITE names another
# suite run the same way (tests/NAME, default systemd; scripts/k8s/test.sh
# runs tests/k8s), HAKO_SYSVM_EXTRA more files (absolute paths, space
# separated) to copy in next to it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${1:-}" != --inner ]; then
	# The image is built (once per machine and package list, a few
	# minutes) before the clock starts: the budget is for boot and tests.
	"$here/image.sh" >/dev/null
	# timeout(1) signals this script (and the ssh it waits on); its EXIT
	# trap still stops the VM.
	timeout -k 60 "${HAKO_SYSVM_TIMEOUT:-1200}" "$0" --inner "$@" && exit 0 || rc=$?
	[ "$rc" -eq 124 ] && say "timed out after ${HAKO_SYSVM_TIMEOUT:-1200}s"
	exit "$rc"
fi
shift

guest_dir=/opt/hako-test
suite=${HAKO_SYSVM_SUITE:-systemd}
read -ra extra <<<"${HAKO_SYSVM_EXTRA:-}"
work=""
export HAKO_SYSVM_NAME=test-$$
phases=()

# phase NAME CMD...: run CMD and record how long it took.
phase() {
	local t0 name=$1 rc=0
	shift
	t0=$(now_ms)
	"$@" || rc=$?
	phases+=("$name $(elapsed "$t0")")
	say "$name: $(elapsed "$t0")"
	return "$rc"
}

# save_serial keeps the VM's serial console past the run.
save_serial() {
	local log=$cache_root/vms/$HAKO_SYSVM_NAME/serial.log
	[ ! -f "$log" ] || cp "$log" "$cache_root/test-serial.log"
}

cleanup() {
	save_serial
	timeout 90 "$here/vm.sh" stop || true
	[ -z "$work" ] || rm -rf "$work"
}

build() {
	make -C "$repo" --no-print-directory build >/dev/null
	(cd "$repo" && CGO_ENABLED=0 go test -c -trimpath -ldflags '-s -w' -o "$work/$suite.test" "./tests/$suite/")
	cp "$repo/bin/hako" "$work/hako"
	# crictl, for the CRI test (Debian 12 packages none): the version
	# scripts/engines/setup.sh installs, but static (CGO_ENABLED=0), so it
	# depends on nothing of the host's (the host's is linked to its libc).
	local crictl=$repo/.cache/tools/static/crictl
	[ -x "$crictl" ] || CGO_ENABLED=0 GOBIN=$repo/.cache/tools/static go install "sigs.k8s.io/cri-tools/cmd/crictl@$(sed -n 's/^CRICTL_VERSION=//p' "$repo/scripts/engines/setup.sh")"
	cp "$crictl" "$work/crictl"
}

# sysctr_image: the system-container image (tests/systemd/sysctr_test.go),
# built on the host: the guest has no network.
sysctr_image() {
	[ "$suite" = systemd ] || return 0
	cp "$("$repo/scripts/sysctr/image.sh")" "$work/sysctr-rootfs.tar.gz"
}

# summary LOG counts the top-level results and fails on a FAIL, on no
# result at all, or on a binary that did not finish (no final PASS).
summary() {
	local passed failed skipped
	passed=$(grep -c '^--- PASS: ' "$1" || true)
	failed=$(grep -c '^--- FAIL: ' "$1" || true)
	skipped=$(grep -c '^--- SKIP: ' "$1" || true)
	echo "$suite-test: $passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] && grep -qx 'PASS' "$1"
}

run_suite() {
	"$here/vm.sh" exec "$guest_dir/$suite.test" -test.v -test.timeout "${HAKO_SYSVM_TEST_TIMEOUT:-15m}" \
		-hako.bin "$guest_dir/hako" "$@" 2>&1 | tee "$work/test.log"
}

main() {
	[ "$(id -u)" -eq 0 ] || die "must run as root"
	local t0 rc=0
	t0=$(now_ms)
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	work=$(mktemp -d /tmp/hako-sysvm-test.XXXXXX)
	phase build build
	phase image "$here/image.sh" >/dev/null
	phase sysctr-image sysctr_image
	phase boot "$here/vm.sh" start
	local files=("$work/hako" "$work/$suite.test" "$work/crictl" "${extra[@]}")
	[ ! -f "$work/sysctr-rootfs.tar.gz" ] || files+=("$work/sysctr-rootfs.tar.gz")
	phase copy-in "$here/vm.sh" copy-in "${files[@]}" "$guest_dir"
	phase tests run_suite "$@" || rc=$?
	save_serial
	phase stop "$here/vm.sh" stop
	summary "$work/test.log" || { [ "$rc" -ne 0 ] || rc=1; }
	say "timings: ${phases[*]}; total $(elapsed "$t0")"
	return "$rc"
}

main "$@"
