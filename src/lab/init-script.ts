import { sshdConfigText } from './sshd-config.js';
/**
 * PID 1 of a lab host, run by `ip netns exec NS unshare --mount --uts --ipc --pid --fork`.
 * It builds a private overlay of the machine's root (upper layer on a tmpfs), fresh /proc,
 * /sys, /run, /tmp, pivots into it, runs the lab's setup (the login user), starts sshd and then only
 * reaps children.
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
if [ -x /etc/lvsrun-lab/setup ]; then /etc/lvsrun-lab/setup; fi
mkdir -p /run/sshd /var/log && chmod 755 /run/sshd
/usr/sbin/sshd -f /etc/lvsrun-lab/sshd_config -E /var/log/sshd.log
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $! || true; done
`;

/**
 * systemd as PID 1 of a lab host, following systemd's container interface. Run as
 * `init-systemd.sh join NS NAME HD CGROUP...` on the machine: it joins the host's own cgroup folders,
 * then enters the network namespace and new mount, UTS, IPC, PID and cgroup namespaces (`boot`),
 * builds the same private overlay as the small init, and hands PID 1 to systemd with:
 * - /sys and /proc/sys read-only (only /proc/sys/net, which is per namespace, writable), so no unit
 *   (udev, systemd-sysctl) changes the machine's kernel or devices;
 * - its own /dev (a tmpfs with the harmless device nodes bound in, its own devpts, /dev/console on
 *   /dev/null), so nothing it creates there reaches the machine's /dev;
 * - the named systemd hierarchy (cgroup v1) or cgroup2, rooted at the host's own folder;
 * - none of the machine's enabled units: a fresh host boots its own sshd unit, journald, logind and
 *   D-Bus; packages installed on the machine are installed but disabled (systemd and SysV links)
 *   and stopped.
 */
export const SYSTEMD_INIT_SCRIPT = `#!/bin/sh
set -eu
stage=$1
if [ "$stage" = join ]; then
  ns=$2; name=$3; hd=$4; shift 4
  for cg in "$@"; do echo $$ > "$cg/cgroup.procs"; done
  exec ip netns exec "$ns" unshare --mount --uts --ipc --pid --cgroup --fork --kill-child \\
    --propagation private /bin/sh "$0" boot "$name" "$hd"
fi
name=$2; hd=$3
hostname "$name"
mount -t tmpfs -o size=512m,mode=755 lvslab "$hd/ovl"
mkdir -p "$hd/ovl/upper" "$hd/ovl/work" "$hd/ovl/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$hd/ovl/upper,workdir=$hd/ovl/work" "$hd/ovl/root"
r="$hd/ovl/root"
mount -t proc proc "$r/proc"
mount --bind "$r/proc/sys" "$r/proc/sys"
mount --bind "$r/proc/sys/net" "$r/proc/sys/net"
mount -o remount,bind,ro "$r/proc/sys"
mount -t sysfs -o ro sysfs "$r/sys"
if grep -q ':name=systemd:' /proc/self/cgroup; then
  mount -t tmpfs -o mode=755 cgroup "$r/sys/fs/cgroup"
  mkdir "$r/sys/fs/cgroup/systemd"
  mount -t cgroup -o none,name=systemd cgroup "$r/sys/fs/cgroup/systemd"
else
  mount -t cgroup2 cgroup2 "$r/sys/fs/cgroup"
fi
mount -t tmpfs -o mode=755,size=64k lvslab-dev "$r/dev"
for d in null zero full random urandom tty net/tun; do
  [ -e "/dev/$d" ] || continue
  mkdir -p "$(dirname "$r/dev/$d")"; touch "$r/dev/$d"; mount --bind "/dev/$d" "$r/dev/$d"
done
touch "$r/dev/console"; mount --bind /dev/null "$r/dev/console"
mkdir -p "$r/dev/pts" "$r/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$r/dev/pts"
ln -s pts/ptmx "$r/dev/ptmx"
mount -t tmpfs -o mode=1777 shm "$r/dev/shm"
ln -s /proc/self/fd "$r/dev/fd"
ln -s /proc/self/fd/0 "$r/dev/stdin"; ln -s /proc/self/fd/1 "$r/dev/stdout"; ln -s /proc/self/fd/2 "$r/dev/stderr"
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
: > /root/.bashrc
od -An -N16 -tx1 /dev/urandom | tr -d ' \\n' > /etc/machine-id
u=/etc/systemd/system
# The machine's enabled units are disabled here, their SysV start links too (S01x becomes K01x, as
# update-rc.d disable does): enable then disable on a lab host restores every link, as on a real host.
for l in "$u"/*.wants/*; do
  [ -L "$l" ] || continue
  rm -f "$l"; n=\${l##*/}; n=\${n%.service}
  for f in /etc/rc[2345].d/S[0-9][0-9]"$n"; do if [ -L "$f" ]; then mv "$f" "\${f%/*}/K\${f##*/S}"; fi; done
done
rm -f "$u/sshd.service"
for m in console-getty.service getty@.service systemd-timesyncd.service; do ln -sf /dev/null "$u/$m"; done
cp /etc/lvsrun-lab/lvsrun-lab-sshd.service "$u/"
mkdir -p "$u/multi-user.target.wants"
ln -sf "$u/lvsrun-lab-sshd.service" "$u/multi-user.target.wants/"
ln -sf /lib/systemd/system/multi-user.target "$u/default.target"
if [ -x /etc/lvsrun-lab/setup ]; then /etc/lvsrun-lab/setup; fi
export container=lvsrun-lab
exec /lib/systemd/systemd
`;

/**
 * The unit that runs a systemd lab host's own sshd (the machine's ssh.service stays disabled). Like
 * Debian's ssh.service, stopping it leaves the sessions alone; unlike it, a killed sshd stays down
 * (no restart), so a test can take a host off the network mid-run.
 */
export const SSHD_UNIT = `[Unit]
Description=sshd of an lvsrun lab host
[Service]
ExecStartPre=/bin/mkdir -p -m 0755 /run/sshd
ExecStart=/usr/sbin/sshd -D -f /etc/lvsrun-lab/sshd_config -E /var/log/sshd.log
KillMode=process
[Install]
WantedBy=multi-user.target
`;

/** sshd of a namespace lab host: on its address, and on the second segment's (`mgmt`) too. */
export function sshdConfig(addr: string, mgmt?: string): string {
  return sshdConfigText({
    comment: 'lvsrun lab host',
    listen: `${addr}:22`,
    ...(mgmt ? { extra: [`ListenAddress ${mgmt}:22`] } : {}),
    hostKey: '/etc/lvsrun-lab/ssh_host_ed25519_key',
    pidFile: '/run/sshd.pid',
    authorizedKeys: '/etc/lvsrun-lab/authorized_keys',
  });
}
