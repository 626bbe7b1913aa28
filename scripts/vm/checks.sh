#!/bin/sh
# checks.sh: run by /init in the test VM (busybox sh). Prints one
# "PASS: name" or "FAIL: name (why)" line per check; run.sh on the host
# reads them from the serial log and knows which names to expect. Command
# output is indented, so only these lines start at column 0.
cg=/sys/fs/cgroup/hako # where hako puts /hako/<id> by default
failed=0

ok() { echo "PASS: $1"; }
bad() {
	echo "FAIL: $1 ($2)"
	failed=$((failed + 1))
}
# expect NAME GOT WANT
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got '$2', want '$3'"; fi
}
indent() { sed 's/^/    /'; }
# section prints a heading with the guest's uptime, to see where time goes.
section() {
	read -r up _ </proc/uptime
	echo "vm: [${up}s] $*"
}
# hakot runs hako with a deadline, so one hung command fails its check
# instead of the whole run timing out with nothing said. Its output goes to
# the log (indented) and to $out, its exit status to $rc. A file, not a
# pipe: a detached container inherits hako's stdout and would hold a pipe
# open, and so would busybox timeout's watcher, for up to a second.
hakot() {
	timeout -s KILL 60 hako "$@" >/tmp/hako.out 2>&1 </dev/null
	rc=$?
	out=$(cat /tmp/hako.out)
	indent </tmp/hako.out
	return $rc
}
# field FILE KEY prints KEY's value from a "key value" file (cpu.stat,
# cgroup.events, pids.events).
field() { sed -n "s/^$2 //p" "$1"; }
# status ID prints the container's status from `hako state`.
status() { hako state "$1" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p'; }
# poll SECONDS COMMAND... retries COMMAND until it succeeds, for kernel
# state that settles asynchronously (freezing, processes dying).
poll() {
	n=$(($1 * 10))
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

# The kernel must show cgroup2 only: no v1 mount, and v1 unmountable with
# the controllers the containers need, because cgroup_no_v1=all holds them.
check_pure_v2() {
	if grep -q ' - cgroup ' /proc/self/mountinfo; then
		bad pure-v2 "a cgroup v1 hierarchy is mounted"
		return
	fi
	mkdir -p /tmp/v1
	if mount -t cgroup -o memory cgroup /tmp/v1 2>/dev/null; then
		umount /tmp/v1
		bad pure-v2 "the v1 memory controller can still be mounted: is cgroup_no_v1=all on the command line?"
		return
	fi
	have=" $(cat /sys/fs/cgroup/cgroup.controllers) "
	for c in cpu memory pids; do
		case $have in *" $c "*) continue ;; esac
		bad pure-v2 "controller $c missing from cgroup2:$have"
		return
	done
	ok pure-v2
}

# hako's cgroups package tests. The host tests detect the hierarchy from
# /proc/self/mountinfo; TestHostCgroup2Only skips itself on a pure v2
# host, so the two that must really run are checked by name.
check_go_tests() {
	section "go test ./internal/cgroups/"
	{
		cd /tmp && /cgroups.test -test.v -test.count=1 -test.timeout=4m
		echo $? >/tmp/go-test.rc
	} 2>&1 | tee /tmp/go-test.out | indent
	rc=$(cat /tmp/go-test.rc)
	if [ "$rc" = 0 ]; then
		ok go-test
	else
		bad go-test "exit $rc; $(grep -o -- '--- FAIL: [A-Za-z0-9_/]*' /tmp/go-test.out | tr '\n' ' ')"
	fi
	for t in TestHostLifecycle:go-test-host-lifecycle TestHostDeviceFilter:go-test-host-devicefilter; do
		if grep -q -- "^--- PASS: ${t%%:*} " /tmp/go-test.out; then
			ok "${t#*:}"
		else
			bad "${t#*:}" "$(grep -- "^--- [A-Z]*: ${t%%:*} " /tmp/go-test.out || echo "${t%%:*} did not run")"
		fi
	done
}

# run_probe ID runs the bundle /bundles/ID in the foreground.
run_probe() {
	section "hako run $1"
	hakot run --bundle "/bundles/$1" "$1"
	echo "    (exit $rc)"
}

# A long-lived container with every limit: the values read back from its
# cgroup directory, then pause, resume, kill --all and delete.
check_limits() {
	d=$cg/limits
	section "hako run -d limits"
	if ! hakot run -d --bundle /bundles/limits limits || [ ! -d "$d" ]; then
		for n in memory.max cpu.max pids.max pause resume kill-all delete; do bad $n "hako run -d failed"; done
		return
	fi
	expect memory.max "$(cat $d/memory.max)" 33554432
	expect cpu.max "$(cat $d/cpu.max)" "50000 100000"
	expect pids.max "$(cat $d/pids.max)" 10

	hakot pause limits
	poll 5 grep -qx 'frozen 1' $d/cgroup.events
	expect pause "freeze=$(cat $d/cgroup.freeze) frozen=$(field $d/cgroup.events frozen) $(status limits)" \
		"freeze=1 frozen=1 paused"
	hakot resume limits
	poll 5 grep -qx 'frozen 0' $d/cgroup.events
	expect resume "freeze=$(cat $d/cgroup.freeze) frozen=$(field $d/cgroup.events frozen) $(status limits)" \
		"freeze=0 frozen=0 running"

	echo "    processes before kill --all: $(wc -l <$d/cgroup.procs)"
	hakot kill --all limits KILL
	poll 5 test ! -s $d/cgroup.procs
	poll 5 test "$(status limits)" = stopped
	expect kill-all "procs=$(wc -l <$d/cgroup.procs) $(status limits)" "procs=0 stopped"

	hakot delete limits
	if [ -e "$d" ]; then bad delete "$d still exists"; else ok delete; fi
}

# Over its 32 MiB the kernel kills the container's init: exit 137, and
# hako says why.
check_oom() {
	run_probe oom
	case "$rc:$out" in
	137:*"OOM killer"*) ok oom-kill ;;
	*) bad oom-kill "exit $rc, want 137 and hako naming the OOM killer" ;;
	esac
}

# A busy loop for a second at half a CPU: the kernel throttles it.
check_cpu() {
	run_probe cpu
	before=$(echo "$out" | sed -n 's/^nr_throttled before: //p')
	after=$(echo "$out" | sed -n 's/^nr_throttled after: //p')
	if [ -n "$after" ] && [ "$after" -gt "${before:-0}" ]; then
		ok cpu-throttled
	else
		bad cpu-throttled "nr_throttled '$before' -> '$after', want it to grow"
	fi
}

# 20 background sleeps under pids.max 10: some forks fail.
check_pids() {
	run_probe pids
	procs=$(echo "$out" | sed -n 's/^processes: //p')
	max=$(echo "$out" | sed -n 's/^pids.events max: //p')
	if [ -n "$procs" ] && [ "$procs" -le 10 ] && [ "${max:-0}" -gt 0 ]; then
		ok pids-fork-fails
	else
		bad pids-fork-fails "processes '$procs' (want <= 10), pids.events max '$max' (want > 0)"
	fi
}

# Deny all plus the defaults: /dev/null works, /dev/kmsg (c 1:11) does not.
# The defaults allow mknod of any device (as runc's do), so the node is
# made and opening it for writing is what the eBPF filter refuses.
check_devices() {
	run_probe devices
	case "$out" in
	*"null: ok"*"mknod: ok"*"kmsg: "*"Operation not permitted"*) ok devices-kmsg-eperm ;;
	*) bad devices-kmsg-eperm "want /dev/null usable, mknod to work and writing /dev/kmsg to fail with EPERM" ;;
	esac
}

# Nothing left by the tests or the containers but hako's empty parent.
check_no_cgroups_left() {
	left=$(find /sys/fs/cgroup -mindepth 1 -type d ! -path $cg)
	if [ -z "$left" ]; then ok no-cgroups-left; else bad no-cgroups-left "$(echo "$left" | tr '\n' ' ')"; fi
}

# AppArmor (Debian's kernel has it on): the container's program and what
# exec starts run under the config's profile, enforced; a profile that is
# not loaded is a clear error, for create and for exec.
check_apparmor() {
	section "AppArmor"
	run_probe aa-confined
	expect apparmor-confined "$(echo "$out" | sed -n 's/^current: //p') / $(echo "$out" | grep -c '^denied read: .*Permission denied')" \
		"hako-test (enforce) / 1"
	if hakot run -d --bundle /bundles/aa-idle aa-idle; then
		pid=$(hako state aa-idle | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
		expect apparmor-pid1 "$(cat /proc/$pid/attr/current)" "hako-test (enforce)"
		hakot exec aa-idle cat /proc/self/attr/current
		expect apparmor-exec "$out" "hako-test (enforce)"
		hakot exec --apparmor unconfined aa-idle cat /proc/self/attr/current
		expect apparmor-exec-override "$out" "unconfined"
		hakot exec --apparmor hako-no-such-profile aa-idle true
		case "$rc:$out" in
		0:*) bad apparmor-exec-not-loaded "exec succeeded" ;;
		*'apparmor profile "hako-no-such-profile" is not loaded'*) ok apparmor-exec-not-loaded ;;
		*) bad apparmor-exec-not-loaded "want the profile named as not loaded" ;;
		esac
		hakot delete --force aa-idle
	else
		for n in pid1 exec exec-override exec-not-loaded; do bad apparmor-$n "hako run -d failed"; done
	fi
	run_probe aa-not-loaded
	case "$rc:$out" in
	0:*) bad apparmor-not-loaded "run succeeded" ;;
	*'apparmor profile "hako-no-such-profile" is not loaded (see aa-status / apparmor_parser)'*) ok apparmor-not-loaded ;;
	*) bad apparmor-not-loaded "want the profile named as not loaded" ;;
	esac
	hako delete --force aa-not-loaded 2>/dev/null
}

check_apparmor_load() {
	section "AppArmor: load the test profile"
	if [ "$(cat /sys/module/apparmor/parameters/enabled 2>&1)" = Y ] && cat /apparmor/hako-test.bin >/sys/kernel/security/apparmor/.load; then
		expect apparmor-loaded "$(grep -c '^hako-test (enforce)$' /sys/kernel/security/apparmor/profiles)" 1
	else
		bad apparmor-loaded "AppArmor is not enabled in the guest kernel, or the profile did not load"
	fi
}

check_pure_v2
check_go_tests
check_limits
check_oom
check_cpu
check_pids
check_devices
check_apparmor_load
check_apparmor
check_no_cgroups_left
if [ "$failed" -gt 0 ]; then
	echo "vm: $failed checks failed; the kernel log ends:"
	dmesg | tail -n 40 | indent
fi
