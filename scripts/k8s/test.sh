#!/usr/bin/env bash
# test.sh: `make k8s-test`. A Kubernetes node in the systemd test VM runs
# its static pods on hako, then on runc for contrast (tests/k8s; see
# docs/engines.md, "Kubernetes"). Builds (or takes from the cache) the
# kubelet with kubelet.sh, then runs the suite as scripts/sysvm/test.sh
# runs tests/systemd: a fresh VM, the binaries copied in, the VM stopped
# and removed at the end. Extra arguments go to the test binary, e.g.
# scripts/k8s/test.sh -test.run 'Kubelet/hako'.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "k8s: must run as root" >&2; exit 1; }
t0=$(date +%s)
kubelet=$("$here/kubelet.sh")
echo "k8s: kubelet $kubelet ready after $(($(date +%s) - t0))s" >&2
export HAKO_SYSVM_SUITE=k8s HAKO_SYSVM_EXTRA=$kubelet
export HAKO_SYSVM_TIMEOUT=${HAKO_SYSVM_TIMEOUT:-2400} HAKO_SYSVM_TEST_TIMEOUT=${HAKO_SYSVM_TEST_TIMEOUT:-30m}
exec "$here/../sysvm/test.sh" "$@"
