#!/usr/bin/env bash
# kubelet.sh: build the kubelet once per machine and print its path.
#
# The kubelet is k8s.io/kubernetes/cmd/kubelet at the version
# scripts/k8s/kubelet/go.mod requires, built from the Go module proxy
# (static, CGO_ENABLED=0, -trimpath). `go install ...@VERSION` refuses
# k8s.io/kubernetes (its go.mod replaces the staging modules with its own
# directories), so that small module requires it and pins each staging
# module to the matching v0.x release.
#
# Cached in /var/cache/hako/k8s/kubelet-VERSION-HASH/kubelet (HAKO_K8S_CACHE
# overrides the parent), HASH a hash of the build module and this script:
# outside the checkout, like the VM image, since CI starts from a fresh
# clone and a kubelet build takes many minutes on two cores. Built under a
# lock, so runs started together build once; builds of other keys are
# removed after a successful one.
set -euo pipefail
export PATH=/usr/local/go/bin:$PATH
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${HAKO_K8S_CACHE:-/var/cache/hako/k8s}

say() { printf 'k8s: %s\n' "$*" >&2; }

version() {
	awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2 }' "$here/kubelet/go.mod"
}

key() {
	cat "$here/kubelet.sh" "$here/kubelet/go.mod" "$here/kubelet/go.sum" | sha256sum | cut -c1-12
}

build() {
	local out=$1 tmp t0 v ldflags
	v=$(version)
	# What `kubelet --version` says, as the release build stamps it.
	ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=$(echo "$v" | cut -d. -f1 | tr -d v) -X k8s.io/component-base/version.gitMinor=$(echo "$v" | cut -d. -f2) -X k8s.io/component-base/version.gitTreeState=clean"
	tmp=$(mktemp -d "$cache_root/build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	say "building the kubelet $v into $out (once per machine; 10 to 30 minutes on two busy cores)"
	t0=$(date +%s)
	# nice: the machine is shared; the build is one long batch job.
	(cd "$here/kubelet" && CGO_ENABLED=0 GOFLAGS=-mod=readonly nice -n 10 \
		go build -trimpath -ldflags "$ldflags" -o "$tmp/kubelet" k8s.io/kubernetes/cmd/kubelet)
	"$tmp/kubelet" --version >"$tmp/version"
	say "built $(cat "$tmp/version") in $(($(date +%s) - t0))s"
	mv "$tmp" "$out"
	trap - EXIT
}

main() {
	local dir d
	mkdir -p "$cache_root"
	dir=$cache_root/kubelet-$(version)-$(key)
	exec 8>"$cache_root/lock"
	flock 8
	if [ ! -x "$dir/kubelet" ]; then
		build "$dir"
		for d in "$cache_root"/kubelet-*/; do
			[ "${d%/}" = "$dir" ] || rm -rf "$d"
		done
	fi
	flock -u 8
	echo "$dir/kubelet"
}

main "$@"
