/** Ansible's serial: a number, a percentage, or a list of them (the last repeats). */
export function batches(hosts: string[], serial: Array<number | string>): string[][] {
  if (!serial.length) return hosts.length ? [hosts] : [];
  const out: string[][] = [];
  let i = 0;
  let k = 0;
  while (i < hosts.length) {
    const s = serial[Math.min(k, serial.length - 1)]!;
    const n =
      typeof s === 'string' && s.endsWith('%')
        ? Math.max(1, Math.floor((hosts.length * Number(s.slice(0, -1))) / 100))
        : Math.max(1, Number(s));
    out.push(hosts.slice(i, i + n));
    i += n;
    k++;
  }
  return out;
}
