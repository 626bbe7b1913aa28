#!/usr/bin/env bash
# Installs what hako's build, demo and tests need on a Debian machine, as root.
# Idempotent: packages already present are not fetched again.
set -euo pipefail
pkgs=(busybox-static iproute2 uidmap musl-tools linux-libc-dev dbus-daemon docker-registry catatonit slirp4netns passt iperf3)
[ "${HAKO_DEPS_EXTRA:-}" ] && pkgs+=(${HAKO_DEPS_EXTRA})
missing=()
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "deps: Go is needed (expected at /usr/local/go/bin)" >&2; exit 1; }
