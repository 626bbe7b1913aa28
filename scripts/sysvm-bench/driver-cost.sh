#!/usr/bin/env bash
# driver-cost.sh [N]: in the systemd test VM (docs/systemd-vm.md), time
# `run /bin/true` for hako, runc and crun, each with the cgroupfs driver and
# with the systemd driver (--systemd-cgroup, a transient scope), N runs
# each, interleaved, and print medians and the systemd driver's extra cost
# per runtime. The VM is emulated (TCG): compare ratios, not times.
#
# Run it in the guest as root, e.g. from the host:
#   scripts/sysvm/vm.sh copy-in bin/hako scripts/sysvm-bench/driver-cost.sh /opt/hako-test/
#   scripts/sysvm/vm.sh exec /opt/hako-test/driver-cost.sh 20
set -euo pipefail
n=${1:-20}
hako=${HAKO:-/opt/hako-test/hako}
dir=$(mktemp -d /tmp/driver-cost.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/dev" "$dir/rootfs/sys" "$dir/rootfs/tmp"
cp /bin/busybox "$dir/rootfs/bin/busybox"
ln -s busybox "$dir/rootfs/bin/true"
"$hako" spec --bundle "$dir"
mk() { # mk NAME CGROUPSPATH: a bundle config for one driver
	mkdir -p "$dir/$1"
	jq --arg p "$2" --arg root "$dir/rootfs" \
		'.ociVersion = "1.0.2" | .process.terminal = false | .process.args = ["/bin/true"] | .linux.cgroupsPath = $p | .root.path = $root' \
		"$dir/config.json" >"$dir/$1/config.json"
}
mk fs /driver-cost/c
mk sd system.slice:driver-cost:c
declare -A t
for ((i = 0; i < n; i++)); do
	for rt in hako runc crun; do
		bin=$rt
		[ "$rt" = hako ] && bin=$hako
		for drv in fs sd; do
			flag=()
			[ "$drv" = sd ] && flag=(--systemd-cgroup)
			s=$(date +%s%N)
			(cd "$dir/$drv" && "$bin" "${flag[@]}" run "dc-$rt-$drv-$i" >/dev/null)
			e=$(date +%s%N)
			t[$rt.$drv]+="$(((e - s) / 1000)) "
		done
	done
done
rmdir /sys/fs/cgroup/driver-cost 2>/dev/null || true
div() { awk -v a="$1" -v b="$2" 'BEGIN {print a / b}'; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-6s %14s %14s %14s\n' runtime "cgroupfs (us)" "systemd (us)" "systemd extra"
for rt in hako runc crun; do
	f=$(echo "${t[$rt.fs]}" | median)
	s=$(echo "${t[$rt.sd]}" | median)
	printf '%-6s %14d %14d %13.2fx\n' "$rt" "$f" "$s" "$(div "$s" "$f")"
done
hf=$(echo "${t[hako.fs]}" | median); hs=$(echo "${t[hako.sd]}" | median)
cf=$(echo "${t[crun.fs]}" | median); cs=$(echo "${t[crun.sd]}" | median)
rf=$(echo "${t[runc.fs]}" | median); rs=$(echo "${t[runc.sd]}" | median)
printf 'systemd extra (us): hako %d, crun %d, runc %d\n' $((hs - hf)) $((cs - cf)) $((rs - rf))
printf 'systemd run, hako / crun: %.2f; hako / runc: %.2f\n' "$(div "$hs" "$cs")" "$(div "$hs" "$rs")"
