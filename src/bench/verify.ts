import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SshdHosts } from './sshd-hosts.js';
import { roles, rootOf } from './workload.js';

const VIP = '10.10.10.100';

/**
 * Check what a tool left on every bench host: each file, its mode and the content that matters.
 * Returns the problems found.
 */
export function verifyHosts(h: SshdHosts): string[] {
  const r = roles(h);
  const bad: string[] = [];
  const file = (host: string, rel: string, mode: string, test: (s: string) => string | undefined): void => {
    const f = join(rootOf(h), host, rel);
    if (!existsSync(f)) {
      bad.push(`${host}: ${rel} missing`);
      return;
    }
    const m = (statSync(f).mode & 0o7777).toString(8).padStart(4, '0');
    if (m !== mode) bad.push(`${host}: ${rel} mode ${m}, want ${mode}`);
    const why = test(readFileSync(f, 'utf8'));
    if (why) bad.push(`${host}: ${rel}: ${why}`);
  };
  const count = (s: string, re: RegExp): number => s.split('\n').filter((l) => re.test(l)).length;
  const lines =
    (want: string[]) =>
    (s: string): string | undefined =>
      s === `${want.join('\n')}\n` ? undefined : `content ${JSON.stringify(s)}`;
  const has =
    (want: string) =>
    (s: string): string | undefined =>
      s.includes(want) ? undefined : `no ${JSON.stringify(want)}`;
  const any = (): undefined => undefined;
  r.directors.forEach((d, i) => {
    file(d, 'etc/keepalived/keepalived.conf', '0640', (s) => {
      if (!s.includes(`router_id ${d}`) || !s.includes(`state ${i === 0 ? 'MASTER' : 'BACKUP'}`))
        return 'wrong router_id or state';
      return count(s, /^\s+real_server /) === r.realservers.length ? undefined : 'wrong number of real_server blocks';
    });
    file(
      d,
      'etc/sysctl.d/90-lvs.conf',
      '0644',
      lines(['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.vs.expire_nodest_conn=1']),
    );
    file(d, 'etc/sysconfig/ipvsadm', '0600', (s) =>
      count(s, /^-A -t /) === 1 && count(s, /^-a -t .* -g -w 1$/) === r.realservers.length ? undefined : 'wrong rules',
    );
    file(d, 'etc/sysconfig/keepalived', '0644', lines(['KEEPALIVED_OPTIONS="-D"']));
    file(d, 'var/lib/lvs/ipvsadm.loaded', '0600', any);
    file(d, 'var/lib/lvs/configured', '0644', lines([`director ${d} vip ${VIP}`]));
  });
  for (const s of r.realservers) {
    const i = h.names.indexOf(s) + 1;
    file(s, 'etc/sysconfig/network-scripts/ifcfg-lo:0', '0644', has(`IPADDR=${VIP}`));
    file(
      s,
      'etc/sysctl.d/90-lvs.conf',
      '0644',
      lines([
        'net.ipv4.conf.lo.arp_ignore=1',
        'net.ipv4.conf.lo.arp_announce=2',
        'net.ipv4.conf.all.arp_ignore=1',
        'net.ipv4.conf.all.arp_announce=2',
      ]),
    );
    file(s, 'usr/share/nginx/html/index.html', '0644', has(`served by ${s} (${h.addr(i)})`));
    file(s, 'var/lib/lvs/sysctl.applied', '0644', any);
    file(s, 'var/lib/lvs/configured', '0644', lines([`realserver ${s} vip ${VIP}`]));
  }
  return bad;
}
