import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { LvsrunError } from '../errors.js';
import { sshdConfigText } from './sshd-config.js';
import { run } from './sys.js';

/**
 * VM mode: a lab host as a QEMU guest (TCG: this machine's KVM cannot boot a stock kernel) running
 * Debian's kernel, so IPVS is real. The guest's root is the machine's own `/` over virtio-9p
 * (read-only, page-cached) under a tmpfs overlay, like a namespace host's; a ~1.5 MB busybox
 * initramfs loads the virtio, 9p and overlay modules and switches into it. Its NIC is a tap on the
 * lab bridge, so guests share the L2 segment with the namespace hosts.
 */
export const TAP_PREFIX = 'lvst-';
const CFG_TAG = 'lvsrun-cfg';
const MODULES = [
  'virtio_ring',
  'virtio',
  'virtio_pci_modern_dev',
  'virtio_pci_legacy_dev',
  'virtio_pci',
  'failover',
  'net_failover',
  'virtio_net',
  'netfs',
  'fscache',
  '9pnet',
  '9pnet_virtio',
  '9p',
  'overlay',
];

export interface VmKernel {
  vmlinuz: string;
  version: string;
}

/** The newest Debian kernel in /boot whose modules are installed, and the tools VM mode needs. */
export function findKernel(): VmKernel {
  const missing = ['qemu-system-x86_64', 'busybox', 'cpio'].filter(
    (b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0,
  );
  const kernels = existsSync('/boot')
    ? readdirSync('/boot')
        .filter((f) => f.startsWith('vmlinuz-'))
        .sort()
        .reverse()
    : [];
  const k = kernels
    .map((f) => ({ vmlinuz: join('/boot', f), version: f.slice('vmlinuz-'.length) }))
    .find((x) => existsSync(join('/lib/modules', x.version, 'modules.dep')));
  const bb = spawnSync('sh', ['-c', 'command -v busybox']).stdout?.toString().trim();
  // The initramfs has no libraries: busybox must be the static build.
  const ldd = (path: string): string => {
    const r = spawnSync('ldd', [path]);
    return `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`;
  };
  if (bb && !ldd(bb).includes('not a dynamic executable')) {
    missing.push('busybox-static (this busybox is dynamically linked)');
  }
  if (missing.length || !k) {
    throw new LvsrunError(
      'E_LAB',
      `VM mode needs ${[...missing, ...(k ? [] : ['a kernel in /boot with its modules'])].join(', ')}`,
      { hint: 'bash scripts/setup.sh --vm installs qemu-system-x86, linux-image-amd64, busybox-static and cpio' },
    );
  }
  return k;
}

const INIT =
  `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in ${MODULES.join(' ')}; do insmod /lib/modules/$m.ko || echo "lvsrun-vm: insmod $m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /lower ` +
  `|| { echo "lvsrun-vm: cannot mount the root"; exec sh; }
mount -t tmpfs -o size=256m tmpfs /upper; mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot ` +
  `|| { echo "lvsrun-vm: overlay failed"; exec sh; }
mkdir -p /newroot/etc/lvsrun-vm
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 ${CFG_TAG} /newroot/etc/lvsrun-vm
umount /proc /sys /dev 2>/dev/null
exec switch_root /newroot /etc/lvsrun-vm/init
`;

/** Build (once per lab) the initramfs: busybox, the modules of `k`, and the init above. */
export async function buildInitrd(dir: string, k: VmKernel): Promise<string> {
  const out = join(dir, 'initrd.gz');
  if (existsSync(out)) return out;
  const root = join(dir, 'initrd');
  for (const d of ['bin', 'lib/modules', 'proc', 'sys', 'dev', 'lower', 'upper', 'newroot'])
    mkdirSync(join(root, d), { recursive: true });
  copyFileSync((await run('sh', ['-c', 'command -v busybox'])).stdout.trim(), join(root, 'bin', 'busybox'));
  for (const m of MODULES)
    copyFileSync(
      (await run('modinfo', ['-k', k.version, '-n', m])).stdout.trim(),
      join(root, 'lib', 'modules', `${m}.ko`),
    );
  writeFileSync(join(root, 'init'), INIT, { mode: 0o755 });
  await run('sh', ['-c', `cd '${root}' && find . | cpio -o -H newc 2>/dev/null | gzip -1 > '${out}'`]);
  return out;
}

/** The guest's own init: addresses, hostname, sshd; then it only reaps children. */
function guestInit(name: string, addr: string, addr2?: string): string {
  const eth1 = addr2 ? `ip addr add ${addr2}/16 dev eth1; ip link set eth1 up\n` : '';
  return `#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /tmp
hostname ${name}
cp /etc/lvsrun-vm/hosts /etc/hosts
# root's .bashrc on this machine starts pyenv (3 s of process starts under TCG); bash sources it for every
# command sshd runs, so a guest starts from an empty one, as a namespace host does
: > /root/.bashrc
ip link set lo up; ip addr add ${addr}/16 dev eth0; ip link set eth0 up
${eth1}mkdir -p /run/sshd; chmod 755 /run/sshd
# sshd re-executes itself for every connection (a fresh address layout): 0.25 s of process start under TCG
# for each connection. A lab guest skips that with -r; an sshd that no longer takes -r starts as usual.
c=/etc/lvsrun-vm/sshd_config
/usr/sbin/sshd -r -f $c -E /run/sshd.log || /usr/sbin/sshd -f $c -E /run/sshd.log
echo LVSRUN-VM-READY > /dev/console
while :; do wait; sleep 1; done
`;
}

export interface VmSpec {
  name: string;
  addr: string;
  hostDir: string;
  mac: string;
  memMiB: number;
  /** A second NIC (eth1) on another bridge: the lab's second segment, a service network apart from SSH. */
  second?: { bridge: string; addr: string; mac: string };
}

/**
 * Start one guest on the lab bridge; returns the qemu pid. The host key and authorized_keys are
 * already in hostDir/etc.
 */
export async function startVm(
  v: VmSpec,
  k: VmKernel,
  initrd: string,
  bridge: string,
): Promise<{ pid: number; tap: string }> {
  const cfg = join(v.hostDir, 'etc');
  writeFileSync(join(cfg, 'init'), guestInit(v.name, v.addr, v.second?.addr), { mode: 0o755 });
  writeFileSync(
    join(cfg, 'sshd_config'),
    sshdConfigText({
      comment: `lvsrun lab VM ${v.name}`,
      listen: `${v.addr}:22`,
      hostKey: '/etc/lvsrun-vm/ssh_host_ed25519_key',
      pidFile: '/run/sshd.pid',
      authorizedKeys: '/etc/lvsrun-vm/authorized_keys',
    }),
  );
  const tap = `${TAP_PREFIX}${v.name}`;
  await run('ip', ['tuntap', 'add', 'dev', tap, 'mode', 'tap'], { ok: [1] });
  await run('ip', ['link', 'set', tap, 'master', bridge, 'up']);
  // Named under the same prefix, so lab down finds it like the first.
  const tap2 = v.second ? `${TAP_PREFIX}m-${v.name}` : undefined;
  if (v.second && tap2) {
    await run('ip', ['tuntap', 'add', 'dev', tap2, 'mode', 'tap'], { ok: [1] });
    await run('ip', ['link', 'set', tap2, 'master', v.second.bridge, 'up']);
  }
  const nic2 =
    v.second && tap2
      ? [
          '-netdev',
          `tap,id=n1,ifname=${tap2},script=no,downscript=no`,
          '-device',
          `virtio-net-pci,netdev=n1,mac=${v.second.mac}`,
        ]
      : [];
  const log = openSync(join(v.hostDir, 'console.log'), 'w');
  const child = spawn(
    'qemu-system-x86_64',
    [
      '-accel',
      'tcg,tb-size=256',
      '-m',
      String(v.memMiB),
      '-smp',
      '1',
      '-nographic',
      '-no-reboot',
      '-kernel',
      k.vmlinuz,
      '-initrd',
      initrd,
      '-append',
      'console=ttyS0 quiet panic=-1',
      '-virtfs',
      'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
      '-virtfs',
      `local,path=${cfg},mount_tag=${CFG_TAG},security_model=none`,
      '-netdev',
      `tap,id=n0,ifname=${tap},script=no,downscript=no`,
      '-device',
      `virtio-net-pci,netdev=n0,mac=${v.mac}`,
      ...nic2,
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  child.unref();
  return { pid: child.pid ?? -1, tap };
}

/** qemu processes the lab started, found by their config share even when the lab state is gone. */
export function labVmPids(labDirPath: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.startsWith('qemu-system') && cmd.includes(`mount_tag=${CFG_TAG}`) && cmd.includes(labDirPath))
        out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}
