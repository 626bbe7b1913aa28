#!/bin/sh
# probe.sh MODE: runs inside a hako container in the test VM and prints
# what its cgroup lets it do, as "key: value" lines that checks.sh judges.
# /sys/fs/cgroup here is the container's own cgroup (cgroup namespace).
cg=/sys/fs/cgroup

case $1 in
idle) # for pause, resume and kill --all: a few processes to freeze and kill
	sleep 1000 &
	sleep 1000 &
	exec sleep 1000
	;;
oom) # an allocation loop in PID 1 itself: the string doubles until the
	# OOM killer ends the shell, and with it the container
	echo "memory.max: $(cat $cg/memory.max)"
	x=0123456789abcdef
	while :; do x=$x$x; done
	;;
cpu)
	echo "cpu.max: $(cat $cg/cpu.max)"
	echo "nr_throttled before: $(sed -n 's/^nr_throttled //p' $cg/cpu.stat)"
	timeout 1 sh -c 'while :; do :; done'
	sed -n 's/^\(usage_usec\|nr_periods\|nr_throttled\|throttled_usec\) /\1 after: /p' $cg/cpu.stat
	;;
pids)
	echo "pids.max: $(cat $cg/pids.max)"
	# In a child shell: ash gives up on the first failed fork.
	sh -c 'i=0; while [ $i -lt 20 ]; do sleep 60 & i=$((i + 1)); done; echo "started 20"' 2>&1
	# Counted with builtins only: no fork is left to spare.
	set -- /proc/[0-9]*
	echo "processes: $#"
	while read -r k v; do
		[ "$k" = max ] && echo "pids.events max: $v"
	done <$cg/pids.events
	;;
devices)
	(echo x >/dev/null) 2>&1 && echo "null: ok"
	err=$(mknod /dev/kmsg c 1 11 2>&1) && echo "mknod: ok" || echo "mknod: $err"
	err=$( (echo x >/dev/kmsg) 2>&1) && echo "kmsg: ok" || echo "kmsg: $err"
	;;
apparmor) # the profile PID 1 runs under, and a read it denies
	echo "current: $(cat /proc/self/attr/current)"
	echo "denied read: $(cat /etc/hako-denied 2>&1)"
	;;
*)
	echo "probe.sh: unknown mode '$1'" >&2
	exit 2
	;;
esac
