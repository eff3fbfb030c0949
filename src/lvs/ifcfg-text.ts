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

/** The Debian (ifupdown) equivalent for a /32 address on an interface label. */
export function ifupdownText(label: string, address: string, prefix: number): string {
  return `# Managed by lvsrun\nauto ${label}\niface ${label} inet static\n    address ${address}/${prefix}\n`;
}

export const prefixToNetmask = (p: number): string =>
  [0, 8, 16, 24].map((s) => (p - s >= 8 ? 255 : p - s <= 0 ? 0 : 256 - 2 ** (8 - (p - s)))).join('.');
