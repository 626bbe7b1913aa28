#!/usr/bin/env bash
# demo.sh BUNDLE: run one command in an isolated busybox container with
# --trace, so every kernel-visible step shows with its duration, then the
# container's view of itself.
set -euo pipefail
bundle=${1:?usage: demo.sh BUNDLE}
hako=$(cd "$(dirname "$0")/.." && pwd)/bin/hako
cd "$bundle"
# Non-interactive: no terminal, a command that shows each isolation.
sed -i 's/"terminal": true/"terminal": false/' config.json
python3 - <<'PY'
import json
c = json.load(open("config.json"))
c["process"]["args"] = ["sh", "-c",
  "echo '--- hostname:'; hostname; echo '--- id:'; id; echo '--- ps:'; ps; "
  "echo '--- ls /:'; ls /; echo '--- namespaces:'; ls -l /proc/self/ns | sed 1d | awk '{print $9, $11}'; "
  "echo '--- ip link:'; ip link"]
json.dump(c, open("config.json", "w"), indent=1)
PY
exec "$hako" --trace run "demo-$$"
