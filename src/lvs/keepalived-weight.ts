/**
 * One real server's `weight` in keepalived.conf, found and replaced in place: every other byte of
 * the file stays as it was. keepalived.conf is read the way keepalived reads it (words split on
 * blanks, `{` and `}` words of their own, `#` and `!` start a comment, "..." one word), and a file
 * that is not plain enough to edit safely is refused: a real server declared twice, a service
 * declared in an included file, or a virtual_server_group. Pure: no I/O.
 */
export interface ServiceRef {
  /** tcp, udp or sctp; fwmark services have no protocol line. */
  protocol?: string;
  vip?: string;
  port?: number;
  fwmark?: number;
}
export interface RealRef {
  addr: string;
  port?: number;
}

export interface WeightSite {
  /** The weight written for the real server, or undefined when it has no `weight` (keepalived's default: 1). */
  weight: number | undefined;
  line: number;
  /** Where the number is (replace it), or where `{` of the real_server block ends (insert after it). */
  start: number;
  end: number;
  insert: boolean;
}

export type WeightLookup = { ok: true; site: WeightSite } | { ok: false; reason: string; declared: boolean };

interface Word {
  text: string;
  start: number;
  end: number;
  line: number;
}

/** keepalived's words, with their byte offsets (in UTF-16 units of `text`). */
export function keepalivedWords(text: string): Word[] {
  const out: Word[] = [];
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === '#' || c === '!') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '{' || c === '}') {
      out.push({ text: c, start: i, end: i + 1, line });
      i++;
    } else if (c === '"') {
      const close = text.indexOf('"', i + 1);
      const nl = text.indexOf('\n', i + 1);
      const end = close < 0 || (nl >= 0 && nl < close) ? (nl < 0 ? text.length : nl) : close + 1;
      out.push({ text: text.slice(i, end), start: i, end, line });
      i = end;
    } else {
      const start = i;
      while (i < text.length && !/[\s{}"]/.test(text[i]!)) i++;
      out.push({ text: text.slice(start, i), start, end: i, line });
    }
  }
  return out;
}

const sameAddr = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Find the `weight` of `real` in the virtual_server `svc` of keepalived.conf `text`. */
export function findRealWeight(text: string, svc: ServiceRef, real: RealRef): WeightLookup {
  const w = keepalivedWords(text);
  const hasInclude = w.some((x, k) => x.text === 'include' && (k === 0 || w[k - 1]!.line !== x.line));
  const hasGroup = w.some((x) => x.text === 'virtual_server_group');
  const sites: WeightSite[] = [];
  const bad: number[] = [];
  let services = 0;
  let depth = 0;
  for (let k = 0; k < w.length; k++) {
    const t = w[k]!;
    if (t.text === '{') depth++;
    else if (t.text === '}') depth = Math.max(0, depth - 1);
    if (depth !== 0 || t.text !== 'virtual_server') continue;
    const head = wordsUntilBrace(w, k + 1);
    if (!head) break;
    const matches =
      svc.fwmark !== undefined
        ? head.args.length === 2 && head.args[0] === 'fwmark' && head.args[1] === String(svc.fwmark)
        : head.args.length === 2 && sameAddr(head.args[0]!, svc.vip ?? '') && head.args[1] === String(svc.port);
    const body = blockEnd(w, head.brace);
    if (matches) {
      // keepalived's protocol default is TCP.
      const proto = directValue(w, head.brace, body, 'protocol') ?? 'TCP';
      if (svc.fwmark !== undefined || proto.toLowerCase() === (svc.protocol ?? 'tcp')) {
        services++;
        sites.push(...realSites(w, head.brace, body, real, svc.fwmark !== undefined, bad));
      }
    }
    k = body;
  }
  const where = svc.fwmark !== undefined ? `fwmark ${svc.fwmark}` : `${svc.vip} ${svc.port}`;
  if (services > 1) return { ok: false, declared: true, reason: `virtual_server ${where} is declared twice` };
  if (!services) {
    const why = hasInclude
      ? ' (the file includes others: lvs_member edits only services written in keepalived.conf itself)'
      : hasGroup
        ? ' (services of a virtual_server_group are not edited)'
        : '';
    return { ok: false, declared: hasInclude, reason: `no virtual_server ${where} in keepalived.conf${why}` };
  }
  const rs = `${real.addr}${real.port !== undefined ? ` ${real.port}` : ''}`;
  if (bad.length)
    return { ok: false, declared: true, reason: `line ${bad[0]}: the weight of real_server ${rs} is not a number` };
  if (sites.length > 1) return { ok: false, declared: true, reason: `real_server ${rs} is declared twice in ${where}` };
  if (!sites.length) return { ok: false, declared: true, reason: `no real_server ${rs} in virtual_server ${where}` };
  return { ok: true, site: sites[0]! };
}

/** `text` with the real server's weight set to `weight` (written after its `{` when it had none). */
export function withWeight(text: string, site: WeightSite, weight: number): string {
  if (!site.insert) return text.slice(0, site.start) + String(weight) + text.slice(site.end);
  const lineStart = text.lastIndexOf('\n', site.start - 1) + 1;
  const indent = /^[ \t]*/.exec(text.slice(lineStart))![0];
  return `${text.slice(0, site.end)}\n${indent}    weight ${weight}${text.slice(site.end)}`;
}

function wordsUntilBrace(w: Word[], from: number): { args: string[]; brace: number } | undefined {
  const args: string[] = [];
  for (let k = from; k < w.length; k++) {
    if (w[k]!.text === '{') return { args, brace: k };
    if (w[k]!.text === '}') return undefined;
    args.push(w[k]!.text);
  }
  return undefined;
}

/** Index of the `}` closing the block opened at `open` (or the last word when unclosed). */
function blockEnd(w: Word[], open: number): number {
  let d = 0;
  for (let k = open; k < w.length; k++) {
    if (w[k]!.text === '{') d++;
    else if (w[k]!.text === '}' && --d === 0) return k;
  }
  return w.length - 1;
}

/** The value of `key` written directly in the block (not in a nested one), the last one winning as in keepalived. */
function directValue(w: Word[], open: number, close: number, key: string): string | undefined {
  let d = 0;
  let v: string | undefined;
  for (let k = open + 1; k < close; k++) {
    if (w[k]!.text === '{') d++;
    else if (w[k]!.text === '}') d--;
    else if (d === 0 && w[k]!.text === key && w[k + 1] && w[k + 1]!.line === w[k]!.line) v = w[k + 1]!.text;
  }
  return v;
}

/** The real server's weight sites; `bad` gets the lines of a `weight` that is not a plain number. */
function realSites(
  w: Word[],
  open: number,
  close: number,
  real: RealRef,
  fwmark: boolean,
  bad: number[],
): WeightSite[] {
  const out: WeightSite[] = [];
  let d = 0;
  for (let k = open + 1; k < close; k++) {
    const t = w[k]!;
    if (t.text === '{') d++;
    else if (t.text === '}') d--;
    if (d !== 0 || t.text !== 'real_server') continue;
    const head = wordsUntilBrace(w, k + 1);
    if (!head) break;
    const [addr, port] = head.args;
    const portOk = fwmark || real.port === undefined ? true : port === String(real.port);
    const end = blockEnd(w, head.brace);
    if (addr !== undefined && sameAddr(addr, real.addr) && portOk && head.args.length <= 2) {
      const weights: number[] = [];
      let dd = 0;
      for (let j = head.brace + 1; j < end; j++) {
        if (w[j]!.text === '{') dd++;
        else if (w[j]!.text === '}') dd--;
        else if (dd === 0 && w[j]!.text === 'weight') weights.push(j);
      }
      const last = weights.at(-1);
      const num = last !== undefined ? w[last + 1] : undefined;
      if (last !== undefined && num && /^\d+$/.test(num.text) && num.line === w[last]!.line)
        out.push({ weight: Number(num.text), line: num.line, start: num.start, end: num.end, insert: false });
      else if (last === undefined) {
        const b = w[head.brace]!;
        out.push({ weight: undefined, line: b.line, start: b.start, end: b.end, insert: true });
      } else bad.push(w[last]!.line);
    }
    k = end;
  }
  return out;
}
