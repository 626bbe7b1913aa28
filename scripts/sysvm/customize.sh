#!/bin/sh
# customize.sh ROOTFS PUBKEY: mmdebstrap's customize hook for the guest
# image (see image.sh). Everything here is configuration on top of Debian's
# defaults; Docker, containerd and podman are left as their packages set
# them up (cgroup driver included).
set -eu
root=$1
pubkey=$2
in_root() { chroot "$root" "$@"; }

echo hako-sysvm >"$root/etc/hostname"
cat >"$root/etc/hosts" <<'H'
127.0.0.1	localhost
127.0.1.1	hako-sysvm
::1	localhost ip6-localhost ip6-loopback
H
# tests/systemd runs only where this file is: elsewhere it skips.
echo 'the hako systemd test VM (scripts/sysvm, docs/systemd-vm.md)' >"$root/etc/hako-sysvm"
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' >"$root/etc/fstab"

# The unprivileged user, with subordinate ids for rootless containers and
# lingering, so that user@1500.service (its systemd instance and session
# bus) starts at boot, as `loginctl enable-linger hakouser` would do.
in_root useradd --create-home --uid 1500 --user-group --shell /bin/bash hakouser
echo 'hakouser:100000:65536' >"$root/etc/subuid"
echo 'hakouser:100000:65536' >"$root/etc/subgid"
mkdir -p "$root/var/lib/systemd/linger"
touch "$root/var/lib/systemd/linger/hakouser"

# The host logs in over ssh with a key made for this image (image.sh), as
# root or as hakouser (a real logind session through pam_systemd).
for home in /root /home/hakouser; do
	mkdir -p "$root$home/.ssh"
	cp "$pubkey" "$root$home/.ssh/authorized_keys"
done
in_root chown -R hakouser:hakouser /home/hakouser/.ssh
chmod 700 "$root/root/.ssh" "$root/home/hakouser/.ssh"
cat >"$root/etc/ssh/sshd_config.d/hako.conf" <<'S'
# Keys only; no reverse DNS under slirp.
PasswordAuthentication no
UseDNS no
S

# The one NIC is qemu's user-mode network with restrict=on: DHCP from qemu,
# no route out, only the host's forward to port 22.
cat >"$root/etc/systemd/network/10-vm.network" <<'N'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
N
in_root systemctl enable systemd-networkd.service >/dev/null 2>&1

# Nothing that would come up later in the run on its own and change what a
# test sees: apt's timers, periodic scrubs. wait-online would hold
# network-online.target (Docker waits for it) for no gain here.
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
	fstrim.timer man-db.timer systemd-networkd-wait-online.service; do
	ln -sf /dev/null "$root/etc/systemd/system/$u"
done

# A serial console for `vm.sh console`: root has no password, so a getty
# would only show a login prompt; log root in there instead.
mkdir -p "$root/etc/systemd/system/serial-getty@ttyS0.service.d"
cat >"$root/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<'G'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 - $TERM
G

# The image never needs its package lists again (the guest has no network).
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
