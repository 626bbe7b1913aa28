#!/usr/bin/env bash
# hk-demo.sh: the front end on an image made here, no network: Debian's
# busybox-static as a rootfs tarball (what `docker export` writes),
# imported with hk, then run with a hostname, a memory, CPU and pids
# limit, traced (every kernel-visible step with its duration), showing
# the container's view of itself. Roots under .cache/demo, so the demo
# never touches /var/lib/hako.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
demo=$repo/.cache/demo
hk() { "$repo/bin/hk" --root "$demo/root" --runroot "$demo/run" "$@"; }
if ! hk image inspect demo/busybox >/dev/null 2>&1; then
	HAKO=$repo/bin/hako "$repo/scripts/mkbundle.sh" "$demo/bundle" >/dev/null
	tar -C "$demo/bundle/rootfs" -cf "$demo/busybox.tar" .
	hk import --change 'CMD ["sh"]' "$demo/busybox.tar" demo/busybox
fi
echo "+ hk --trace run --rm --hostname demo -m 64m --cpus 0.5 --pids-limit 64 demo/busybox sh -c ..."
exec "$repo/bin/hk" --root "$demo/root" --runroot "$demo/run" --trace \
	run --rm --hostname demo -m 64m --cpus 0.5 --pids-limit 64 demo/busybox sh -c '
echo "--- hostname: $(hostname)"
echo "--- memory limit: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"
echo "--- cpu quota/period: $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null | tr "\n" " ")"
echo "--- pids limit: $(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)"
echo "--- id: $(id)"
echo "--- ps:"; ps -o pid,user,comm
echo "--- ip link (only lo: --network none):"; ip link'
