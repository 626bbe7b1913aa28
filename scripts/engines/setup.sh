#!/usr/bin/env bash
# Installs, from Debian's packages, what the engine tests (tests/engines)
# need and this machine lacks: containerd 1.6 (with ctr), Docker 20.10,
# podman 4.3 with conmon (catatonit for --init, uidmap for rootless podman), busybox-static (the test image is built from it
# in Go, so neither umoci nor skopeo is needed), iptables and runc (the
# engines' packages depend on a runc; the tests never use it);
# and crictl, the CRI client, which Debian 12 does not package: built from
# the Go module proxy into .cache/tools, where the Makefile keeps its tools
# (a few minutes the first time on a machine).
# Idempotent: what is already there is not fetched again.
#
# No system service is started: the tests start every daemon themselves,
# with private state directories and sockets. Where the machine runs
# systemd, the units the packages enable are stopped and disabled again
# unless HAKO_ENGINES_KEEP_SERVICES=1.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "engines/setup: must run as root" >&2; exit 1; }
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PATH=/usr/local/go/bin:$PATH
CRICTL_VERSION=v1.37.0
if [ ! -x "$repo/.cache/tools/crictl" ]; then
	GOBIN=$repo/.cache/tools go install "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
fi

pkgs=(containerd docker.io podman conmon catatonit uidmap busybox-static iptables runc)
missing=()
for p in "${pkgs[@]}"; do
	# installed (ii), or installed with triggers still to run (iT, iW):
	# another apt-get on the machine may be running them right now.
	case $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) in
	i[iTW]*) ;;
	*) missing+=("$p") ;;
	esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt-get on a shared machine rather than fail.
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ -d /run/systemd/system ] && [ -z "${HAKO_ENGINES_KEEP_SERVICES:-}" ]; then
	for u in docker.socket docker.service containerd.service podman.socket; do
		systemctl disable --now "$u" >/dev/null 2>&1 || true
	done
fi
