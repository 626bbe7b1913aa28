#!/usr/bin/env bash
# mkbundle.sh DIR: a runnable OCI bundle at DIR: rootfs from Debian's
# busybox-static (one static binary plus its applet links) and the default
# config.json from `hako spec`, set to run a non-interactive shell command
# unless TERMINAL=1.
set -euo pipefail
dir=${1:?usage: mkbundle.sh DIR}
hako=${HAKO:-$(dirname "$0")/../bin/hako}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "mkbundle: $busybox missing: run scripts/deps.sh" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir/rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home}
cp "$busybox" "$dir/rootfs/bin/busybox"
for applet in $("$busybox" --list); do
	[ -e "$dir/rootfs/bin/$applet" ] || ln -s busybox "$dir/rootfs/bin/$applet"
done
chmod 1777 "$dir/rootfs/tmp"
cat > "$dir/rootfs/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
P
cat > "$dir/rootfs/etc/group" <<'G'
root:x:0:
tty:x:5:
nogroup:x:65534:
G
"$hako" spec --bundle "$dir"
