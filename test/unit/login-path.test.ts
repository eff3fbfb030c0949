import { describe, expect, it } from 'vitest';
import { connectSpec } from '../../src/engine/connect.js';
import { connVarProblems, proxyJumpOf, sshArgWords } from '../../src/engine/connect-vars.js';
import { sudoRefusal } from '../../src/transport/become.js';
import type { SshConfigHost } from '../../src/transport/ssh-config.js';

const host = { name: 'rs1', vars: {}, origins: {}, groups: [] };
const opts = { acceptNewHostKeys: false, connectTimeoutMs: 5000, baseDir: '/inv', env: {} };
const noCfg = (): SshConfigHost => ({ identityFiles: [] });

describe('ProxyJump from the inventory', () => {
  it('the login user and ssh-agent socket come from the environment the CLI passes in, for every hop', () => {
    const env = { USER: 'ops-from-cli', SSH_AUTH_SOCK: '/run/agent-from-cli' };
    const s = connectSpec(host, { lvsrun_proxy_jump: 'b1' }, noCfg, { ...opts, env });
    expect(s.user).toBe('ops-from-cli');
    expect(s.agent).toBe('/run/agent-from-cli');
    expect(s.proxyJump).toMatchObject({ host: 'b1', user: 'ops-from-cli', agent: '/run/agent-from-cli' });
    const bare = connectSpec(host, {}, noCfg, { ...opts, env: {} });
    expect(bare.user).toBe('root');
    expect(bare.agent).toBeUndefined();
  });

  it('reads -J and -o ProxyJump in every spelling ssh accepts, quotes as a shell splits them', () => {
    expect(proxyJumpOf('-o ProxyJump=ops@bastion:2222')).toBe('ops@bastion:2222');
    expect(proxyJumpOf('-oProxyJump=b1')).toBe('b1');
    expect(proxyJumpOf('-o "ProxyJump b1,b2" -o StrictHostKeyChecking=no')).toBe('b1,b2');
    expect(proxyJumpOf('-J ops@b1')).toBe('ops@b1');
    expect(proxyJumpOf('-Jb1')).toBe('b1');
    expect(proxyJumpOf('-o proxyjump=b1')).toBe('b1');
    expect(proxyJumpOf('-o StrictHostKeyChecking=no')).toBeUndefined();
    expect(proxyJumpOf(undefined)).toBeUndefined();
    expect(sshArgWords(`-o 'A b' "c\\"d" e\\ f`)).toEqual(['-o', 'A b', 'c"d', 'e f']);
  });

  it("a chain a,b connects to a, to b through a, then to the host through b; hops without keys use the host's", () => {
    const s = connectSpec(
      host,
      {
        ansible_host: '10.0.0.5',
        ansible_user: 'op',
        ansible_ssh_private_key_file: 'k',
        lvsrun_proxy_jump: 'j1@a:2201,[fd00::1]:2202',
      },
      noCfg,
      opts,
    );
    expect(s.host).toBe('10.0.0.5');
    expect(s.proxyJump).toMatchObject({ host: 'fd00::1', port: 2202, privateKeyFiles: ['/inv/k'] });
    expect(s.proxyJump?.proxyJump).toMatchObject({ host: 'a', port: 2201, user: 'j1', privateKeyFiles: ['/inv/k'] });
    expect(s.proxyJump?.proxyJump?.proxyJump).toBeUndefined();
  });

  it("the inventory wins over ssh_config; ssh_config's ProxyJump applies without it; none means direct", () => {
    const cfg = (a: string): SshConfigHost =>
      a === 'rs1' ? { identityFiles: [], proxyJump: 'cfgjump' } : { identityFiles: [] };
    expect(connectSpec(host, {}, cfg, opts).proxyJump?.host).toBe('cfgjump');
    expect(connectSpec(host, { ansible_ssh_common_args: '-J varjump' }, cfg, opts).proxyJump?.host).toBe('varjump');
    expect(connectSpec(host, { lvsrun_proxy_jump: 'none' }, cfg, opts).proxyJump).toBeUndefined();
  });

  it('refuses a ProxyCommand (never bypassed) and a malformed jump, hostile values included', () => {
    expect(connVarProblems({ ansible_ssh_common_args: '-o ProxyCommand="nc %h %p"' })[0]?.message).toMatch(
      /ProxyCommand/,
    );
    for (const bad of ['-oProxyCommand=x@b', 'a b', 'a,,b', 'u@', '{{ x }}', 'a\nb', '__proto__@', '']) {
      expect(connVarProblems({ lvsrun_proxy_jump: bad }), bad).toHaveLength(1);
      expect(() => connectSpec(host, { lvsrun_proxy_jump: bad }, noCfg, opts), bad).toThrow(
        /lvsrun_proxy_jump|ProxyJump/,
      );
    }
    expect(connVarProblems({ lvsrun_proxy_jump: 'ops@bastion.example:22,b2' })).toEqual([]);
    expect(connVarProblems({ ansible_ssh_common_args: '-o StrictHostKeyChecking=no' })).toEqual([]);
  });
});

describe('sudo refusing the become', () => {
  it('names a wrong password, a missing one, a user sudoers refuses; a failing command is not sudo', () => {
    const r = (stderr: string, code = 1): { code: number; stderr: string } => ({ code, stderr });
    expect(
      sudoRefusal(r('Sorry, try again.\nsudo: 1 incorrect password attempt\n'), 'rs1', 'op', 'root')?.message,
    ).toBe('rs1: sudo as op (become root) refused the become password (ansible_become_password)');
    expect(sudoRefusal(r('sudo: a password is required\n'), 'rs1', 'op', 'root')?.message).toMatch(/needs a password/);
    expect(sudoRefusal(r('op is not in the sudoers file.\n'), 'rs1', 'op', 'root')?.message).toMatch(/not allowed/);
    expect(sudoRefusal(r('cat: x: No such file or directory\n'), 'rs1', 'op', 'root')).toBeUndefined();
    expect(sudoRefusal(r('sudo: 1 incorrect password attempt', 0), 'rs1', 'op', 'root')).toBeUndefined();
  });
});
