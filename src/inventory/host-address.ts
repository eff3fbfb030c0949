/**
 * `host:port` in inventory host names, split as Ansible's parse_address does: `name:22`, `10.0.0.5:22`,
 * `[2001:db8::2]:22` and `[host]:22` carry a port; a bare IPv6 address does not. What is left must be a
 * host name, IPv4 or IPv6 address (ranges allowed); otherwise the whole text is the name and there is no port.
 */
export function splitHostPort(text: string): { name: string; port?: number } {
  return parseAddress(text) ?? { name: text };
}

/** A host name or address with an optional port, or undefined when `text` is neither (parse_address). */
export function parseAddress(text: string): { name: string; port?: number } | undefined {
  let address = text;
  let port: number | undefined;
  const bracketed = /^\[(.+)\]:([0-9]+)$/.exec(address);
  if (bracketed) {
    address = bracketed[1]!;
    port = Number(bracketed[2]);
  }
  const hostport = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/.exec(address);
  if (hostport) {
    address = hostport[1]!;
    port = Number(hostport[2]);
  }
  if (!IPV4.test(address) && !isIpv6(address) && !HOSTNAME.test(address)) return undefined;
  return port === undefined ? { name: address } : { name: address, port };
}

const NUM_RANGE = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const HEX_RANGE = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const I4 = String.raw`(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUM_RANGE})`;
const IPV4 = new RegExp(String.raw`^(?:${I4}\.){3}${I4}$`, 'i');
const W = String.raw`[\p{L}\p{N}\p{M}\p{Pc}]`;
const LABEL = String.raw`(?:${W}|${ALNUM_RANGE})(?:${W}|-|${ALNUM_RANGE})*(?<![_-])`;
const HOSTNAME = new RegExp(String.raw`^${LABEL}(?:\.${LABEL})*$`, 'iu');
const H = String.raw`(?:[0-9a-f]{1,4}|${HEX_RANGE})`;
// As in Ansible, only the last alternative is anchored at the end (`$` binds to it alone).
const IPV6_ALTS = [
  `(?:${H}:){7}${H}`,
  `(?:${H}:){1,6}:`,
  `(?:${H}:)(?::${H}){1,6}`,
  `(?:${H}:){2}(?::${H}){1,5}`,
  `(?:${H}:){3}(?::${H}){1,4}`,
  `(?:${H}:){4}(?::${H}){1,3}`,
  `(?:${H}:){5}(?::${H}){1,2}`,
  `(?:${H}:){6}(?::${H})`,
  `:(?::${H}){1,6}`,
  `${H}?::`,
  String.raw`(?:0:){6}(?:${H}\.){3}${H}`,
  String.raw`::(?:ffff:)?(?:${H}\.){3}${H}`,
];
const IPV6 = new RegExp(`^(?:${IPV6_ALTS.join('|')}|(?:0:){5}ffff:(?:${H}\\.){3}${H}$)`, 'i');

function isIpv6(s: string): boolean {
  return s.length <= 200 && IPV6.test(s);
}
