/** network-scripts `ifcfg-<dev>` files: KEY=value lines, DEVICE first, values quoted only when they need it. */
export function ifcfgText(device: string, settings: Record<string, string | number | boolean>): string {
  const val = (v: string | number | boolean): string => {
    const s = typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v);
    return /^[A-Za-z0-9_.:/@+-]*$/.test(s) ? s : `"${s.replace(/(["\\$`])/g, '\\$1')}"`;
  };
  const lines = [`DEVICE=${val(device)}`, ...Object.entries(settings).filter(([k]) => k.toUpperCase() !== 'DEVICE').map(([k, v]) => `${k.toUpperCase()}=${val(v)}`)];
  return `# Managed by lvsrun\n${lines.join('\n')}\n`;
}

/** The Debian (ifupdown) equivalent for a /32 address on an interface label. */
export function ifupdownText(label: string, address: string, prefix: number): string {
  return `# Managed by lvsrun\nauto ${label}\niface ${label} inet static\n    address ${address}/${prefix}\n`;
}

export const prefixToNetmask = (p: number): string => [0, 8, 16, 24].map((s) => (p - s >= 8 ? 255 : p - s <= 0 ? 0 : 256 - 2 ** (8 - (p - s)))).join('.');
