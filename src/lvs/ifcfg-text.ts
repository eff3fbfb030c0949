/** A setting name: a shell variable name (written upper-cased). */
export const IFCFG_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * network-scripts `ifcfg-<dev>` files: KEY=value lines, DEVICE first, values quoted only when they
 * need it. The file is sourced by a shell: a key that is not a variable name, or a value with a
 * newline, would be a command. Both are refused here too, whatever the caller checked.
 */
export function ifcfgText(device: string, settings: Record<string, string | number | boolean>): string {
  const val = (v: string | number | boolean): string => {
    const s = typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v);
    if (/[\x00-\x1f\x7f]/.test(s)) throw new Error(`ifcfg value ${JSON.stringify(s.slice(0, 40))} is not one line`);
    return /^[A-Za-z0-9_.:/@+-]*$/.test(s) ? s : `"${s.replace(/(["\\$`])/g, '\\$1')}"`;
  };
  const lines = [`DEVICE=${val(device)}`];
  for (const [k, v] of Object.entries(settings)) {
    if (!IFCFG_KEY.test(k)) throw new Error(`ifcfg setting ${JSON.stringify(k.slice(0, 40))} is not a variable name`);
    if (k.toUpperCase() !== 'DEVICE') lines.push(`${k.toUpperCase()}=${val(v)}`);
  }
  return `# Managed by lvsrun\n${lines.join('\n')}\n`;
}

/** How the interface itself comes to exist at boot: a dummy interface, or tunl0 (the ipip module). */
export type CreateKind = 'dummy' | 'ipip';

/**
 * The Debian (ifupdown) equivalent for an address on an interface label. An interface lvsrun
 * creates is created again at boot by the stanza's `pre-up` (and a dummy removed by `post-down` when
 * the stanza is the interface itself, not a label on it). `iface` is an interface name (checked by
 * the caller's argument schema): it is written into shell commands ifupdown runs.
 */
export function ifupdownText(
  label: string,
  address: string,
  prefix: number,
  create?: { kind: CreateKind; iface: string },
): string {
  const hooks: string[] = [];
  if (create?.kind === 'dummy') {
    hooks.push(`    pre-up ip link show dev ${create.iface} >/dev/null 2>&1 || ip link add ${create.iface} type dummy`);
  } else if (create?.kind === 'ipip') hooks.push('    pre-up modprobe ipip');
  const tail = create?.kind === 'dummy' && label === create.iface ? [`    post-down ip link del ${create.iface}`] : [];
  return [
    '# Managed by lvsrun',
    `auto ${label}`,
    `iface ${label} inet static`,
    ...hooks,
    `    address ${address}/${prefix}`,
    ...tail,
    '',
  ].join('\n');
}

/**
 * RHEL-family hosts: network-scripts cannot create a dummy interface, NetworkManager can; its keyfile
 * (mode 0600, or NetworkManager ignores it) creates the interface and puts the address on it at boot.
 */
export function nmDummyKeyfile(id: string, iface: string, address: string, prefix: number): string {
  const v6 = address.includes(':');
  return [
    '# Managed by lvsrun',
    '[connection]',
    `id=${id}`,
    'type=dummy',
    `interface-name=${iface}`,
    'autoconnect=true',
    '',
    '[ipv4]',
    ...(v6 ? ['method=disabled'] : ['method=manual', `address1=${address}/${prefix}`]),
    '',
    '[ipv6]',
    ...(v6 ? ['method=manual', `address1=${address}/${prefix}`] : ['method=ignore']),
    '',
  ].join('\n');
}

export const prefixToNetmask = (p: number): string =>
  [0, 8, 16, 24].map((s) => (p - s >= 8 ? 255 : p - s <= 0 ? 0 : 256 - 2 ** (8 - (p - s)))).join('.');
