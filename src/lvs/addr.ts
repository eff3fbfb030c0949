import ipaddr from 'ipaddr.js';

/**
 * Address and name checks for values written into commands and config files. The one file that
 * imports ipaddr.js. Each check is strict on purpose: a value that passes cannot carry a space,
 * quote, brace, newline or leading dash into keepalived.conf, an ifcfg file or a command line.
 */

/** An IPv4 address in dotted-quad form, or an IPv6 address without a zone (`%eth0`). */
export function isIpAddress(s: string): boolean {
  if (s.length > 45) return false;
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) return true;
  return /^[0-9A-Fa-f:.]+$/.test(s) && s.includes(':') && ipaddr.IPv6.isValid(s);
}

export function isIpv4(s: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(s);
}

/** ADDR/LEN with a prefix length that fits the address family. */
export function isIpCidr(s: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m || !isIpAddress(m[1]!)) return false;
  return Number(m[2]) <= (isIpv4(m[1]!) ? 32 : 128);
}

/** An address, with or without /LEN. */
export function isIpOrCidr(s: string): boolean {
  return isIpAddress(s) || isIpCidr(s);
}

/**
 * A Linux interface name: 1-15 characters (IFNAMSIZ), no '/', ':' or whitespace, not '.' or '..'.
 * lvsrun also refuses a leading '-' (it would read as an option to ip) and characters beyond
 * letters, digits and `_ . @ + -`, which no distribution's naming scheme produces.
 */
export function isInterfaceName(s: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,14}$/.test(s);
}

/** An address label or alias device such as `lo:0`: an interface name, optionally `:suffix`, 15 at most. */
export function isInterfaceLabel(s: string): boolean {
  const [dev, alias, ...rest] = s.split(':');
  if (s.length > 15 || rest.length || !isInterfaceName(dev!)) return false;
  return alias === undefined || /^[A-Za-z0-9_.@+-]+$/.test(alias);
}

/** A DNS host name (RFC 1123 labels), 253 characters at most. */
export function isHostName(s: string): boolean {
  const label = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
  return s.length <= 253 && new RegExp(`^${label}(\\.${label})*\\.?$`).test(s);
}

export function isHostOrIp(s: string): boolean {
  return isIpAddress(s) || isHostName(s);
}
