import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labDir } from '../../src/lab/paths.js';
import { cli, recapLine } from './helpers.js';
import { useLab } from './lab-session.js';

// `lab up --init simple`: no systemd, so the service module's init-script fallback (containers,
// minimal hosts) is driven against real Debian init scripts.
const env = process.env;
const L = useLab(undefined, { init: 'simple' });
const on = async (host: string, cmd: string): Promise<string> => (await L.exec(host, cmd)).stdout.trim();

describe('the small init (--init simple)', () => {
  it('has no systemd as PID 1', async () => {
    expect(await on('rs1', 'cat /proc/1/comm; test -d /run/systemd/system && echo systemd || echo none')).toBe(
      'sh\nnone',
    );
  });

  it('site.yaml converges through the init scripts; stop and start of nginx are seen by pidof', async () => {
    const first = await cli('playbooks/site.yaml', '-i', 'lab');
    expect(first.code, first.out + first.err).toBe(0);
    expect(await on('rs1', 'pidof nginx >/dev/null && echo running')).toBe('running');
    const second = await cli('playbooks/site.yaml', '-i', 'lab');
    for (const h of ['lb1', 'lb2', 'rs1', 'rs2'])
      expect(recapLine(second.out, h)).toMatchObject({ changed: 0, failed: 0 });
    const f = join(labDir(env), 'stop.yaml');
    writeFileSync(f, '- hosts: rs1\n  tasks:\n    - service: {name: nginx, state: stopped}\n');
    const stop = await cli(f, '-i', 'lab');
    expect(stop.code, stop.out).toBe(0);
    expect(await on('rs1', 'pidof nginx || echo none')).toBe('none');
    const again = await cli('playbooks/site.yaml', '-i', 'lab');
    expect(recapLine(again.out, 'rs1')).toMatchObject({ changed: 1, failed: 0 });
    expect(await on('rs1', 'pidof nginx >/dev/null && echo running')).toBe('running');
  });
});
