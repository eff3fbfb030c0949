/**
 * Lossless bytes <-> string for editing files that may not be UTF-8 (Python's "surrogateescape"):
 * valid UTF-8 decodes as usual; every byte of an invalid sequence becomes the lone surrogate
 * U+DC80..U+DCFF, which encodes back to that byte. So textToBytes(bytesToText(b)) equals b for
 * any bytes, and a line editor can work on strings without turning stray bytes into U+FFFD.
 */
export function bytesToText(b: Buffer): string {
  const plain = b.toString('utf8');
  if (!plain.includes('\uFFFD') || Buffer.from(plain, 'utf8').equals(b)) return plain;
  const out: string[] = [];
  let run = 0;
  let i = 0;
  while (i < b.length) {
    const n = seqLength(b, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out.push(b.toString('utf8', run, i), String.fromCharCode(0xdc00 + b[i]!));
    run = ++i;
  }
  out.push(b.toString('utf8', run));
  return out.join('');
}

/** The inverse of bytesToText; for a string without lone U+DC80..U+DCFF surrogates it is plain UTF-8. */
export function textToBytes(s: string): Buffer {
  if (!/[\uDC80-\uDCFF]/.test(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const lone = c >= 0xdc80 && c <= 0xdcff && !(i > 0 && isHigh(s.charCodeAt(i - 1)));
    if (!lone) continue;
    parts.push(Buffer.from(s.slice(start, i), 'utf8'), Buffer.from([c - 0xdc00]));
    start = i + 1;
  }
  parts.push(Buffer.from(s.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;

/** Length of the well-formed UTF-8 sequence at b[i] (RFC 3629: no overlongs, no surrogates), or 0. */
function seqLength(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
