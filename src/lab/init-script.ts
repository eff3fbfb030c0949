import { sshdConfigText } from './sshd-config.js';
/**
 * PID 1 of a lab host, run by `ip netns exec NS unshare --mount --uts --ipc --pid --fork`.
 * It builds a private overlay of the machine's root (upper layer on a tmpfs), fresh /proc,
 * /sys, /run, /tmp, pivots into it, starts sshd and then only reaps children.
 * This is lvsrun's own script text; the host name and folder arrive as $1 and $2.
 */
export const INIT_SCRIPT = `#!/bin/sh
set -eu
name=$1; hd=$2
hostname "$name"
mount -t tmpfs -o size=512m,mode=755 lvslab "$hd/ovl"
mkdir -p "$hd/ovl/upper" "$hd/ovl/work" "$hd/ovl/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$hd/ovl/upper,workdir=$hd/ovl/work" "$hd/ovl/root"
r="$hd/ovl/root"
mount -t proc proc "$r/proc"
mount -t sysfs sysfs "$r/sys"
mount --rbind /dev "$r/dev"
mount -t tmpfs -o mode=755 tmpfs "$r/run"
mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
mkdir -p "$r/etc/lvsrun-lab" "$r/.oldroot"
mount --bind "$hd/etc" "$r/etc/lvsrun-lab"
cd "$r"
pivot_root . .oldroot
umount -l /.oldroot
rmdir /.oldroot 2>/dev/null || true
echo "$name" > /etc/hostname
cat /etc/lvsrun-lab/hosts > /etc/hosts
# root's .bashrc on this machine starts pyenv; a lab host does not need it on every command
: > /root/.bashrc
mkdir -p /run/sshd /var/log && chmod 755 /run/sshd
/usr/sbin/sshd -f /etc/lvsrun-lab/sshd_config -E /var/log/sshd.log
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $! || true; done
`;

export function sshdConfig(addr: string): string {
  return sshdConfigText({
    comment: 'lvsrun lab host',
    listen: `${addr}:22`,
    hostKey: '/etc/lvsrun-lab/ssh_host_ed25519_key',
    pidFile: '/run/sshd.pid',
    authorizedKeys: '/etc/lvsrun-lab/authorized_keys',
  });
}
