import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadInventory } from '../../src/inventory/load.js';
import { selectHosts } from '../../src/inventory/select.js';
import { ConfigError } from '../../src/errors.js';
import { listShape } from '../../src/cli/commands/inventory.js';

const fx = (p: string): string => join(import.meta.dirname, '..', 'fixtures', 'inventory', p);

describe('INI inventory (Ansible documented example)', () => {
  const inv = loadInventory(fx('ini/hosts.ini'));
  it('reads groups, children, ranges and host vars', () => {
    expect(selectHosts(inv, 'webservers')).toEqual(['foo.example.com', 'bar.example.com']);
    expect(selectHosts(inv, 'dbservers')).toEqual([
      'one.example.com',
      'two.example.com',
      'db-a.example.com',
      'db-b.example.com',
      'db-c.example.com',
    ]);
    expect(selectHosts(inv, 'southeast')).toEqual(['host1', 'host2']);
    expect(inv.hosts.get('bar.example.com')!.vars.http_port).toBe(8080);
    expect(inv.hosts.get('host1')!.vars).toMatchObject({ ansible_host: '10.0.0.1', ansible_port: 2222 });
    expect(inv.groups.get('ungrouped')!.hosts).toEqual(['mail.example.com']);
  });
  it('child group vars beat parent group vars', () => {
    expect(inv.hosts.get('host2')!.vars.ntp_server).toBe('ntp.atlanta.example.com');
    expect(inv.hosts.get('host2')!.vars.halon_system_timeout).toBe(30);
  });
  it('records where a variable was set', () => {
    expect(inv.hosts.get('host2')!.origins.ntp_server).toEqual({ file: fx('ini/hosts.ini'), line: 18 });
  });
});

describe('YAML inventory with group_vars and host_vars', () => {
  const inv = loadInventory(fx('yaml/hosts.yaml'));
  it('applies all < parent < child < group_vars file < host < host_vars', () => {
    expect(inv.hosts.get('rs02')!.vars.role).toBe('lvs');
    expect(inv.hosts.get('lb1')!.vars.role).toBe('director');
    expect(inv.hosts.get('lb1')!.vars.priority).toBe(150);
    expect(inv.hosts.get('lb2')!.vars.priority).toBe(90);
    expect(inv.hosts.get('lb2')!.vars.vrid).toBe(51);
    expect(inv.hosts.get('mail.example.com')!.vars.lvs_vip).toBe('10.0.0.100');
    expect(inv.hosts.get('lb2')!.origins.priority!.file).toContain('host_vars/lb2/main.yaml');
  });
  it('selects with unions, intersections, exclusions, globs and regexes', () => {
    expect(selectHosts(inv, 'directors:realservers')).toEqual(['lb1', 'lb2', 'rs01', 'rs02', 'rs03']);
    expect(selectHosts(inv, 'lvs:&directors')).toEqual(['lb1', 'lb2']);
    expect(selectHosts(inv, 'lvs:!lb1')).toEqual(['lb2', 'rs01', 'rs02', 'rs03']);
    expect(selectHosts(inv, 'rs0*')).toEqual(['rs01', 'rs02', 'rs03']);
    expect(selectHosts(inv, '~^lb[12]$')).toEqual(['lb1', 'lb2']);
    expect(selectHosts(inv, 'all')).toHaveLength(6);
  });
  it('rejects an unknown name with a suggestion', () => {
    expect(() => selectHosts(inv, 'director')).toThrow(ConfigError);
    try {
      selectHosts(inv, 'director');
    } catch (e) {
      expect((e as ConfigError).hint).toMatch(/directors/);
    }
  });
  it('prints the ansible-inventory --list shape', () => {
    const l = listShape(inv) as Record<string, { hosts?: string[]; children?: string[] }> & {
      _meta: { hostvars: Record<string, unknown> };
    };
    expect(l.all!.children).toContain('lvs');
    expect(l.directors!.hosts).toEqual(['lb1', 'lb2']);
    expect(l._meta.hostvars.lb2).toMatchObject({ priority: 90 });
  });
});

describe('inventory errors', () => {
  it('skips an unknown group key with a warning naming file and line, as Ansible does', async () => {
    const { parseYamlText } = await import('../../src/yaml/source.js');
    const { loadYamlInventory } = await import('../../src/inventory/load-yaml.js');
    const { emptyRaw } = await import('../../src/inventory/types.js');
    const src = parseYamlText('all:\n  children:\n    web:\n      hostz:\n        a: {}\n', 'inv.yaml');
    const raw = emptyRaw();
    loadYamlInventory(src, raw);
    expect(raw.warnings).toEqual([expect.stringMatching(/^inv\.yaml:4: skipping unknown key 'hostz'/)]);
    expect(raw.groups.get('web')!.hosts).toEqual([]);
  });
});
