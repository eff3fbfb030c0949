import { describe, expect, it } from 'vitest';
import { cmds, runFlow } from './flow-fixture.js';

// hostvars.H.x renders x in H's own context, as Ansible does: not in the context of the host whose
// task reads it (which once gave r1's value for `{{hostvars.d1.x}}` when x named inventory_hostname).
const INV = `all:
  vars:
    site: "{{inventory_hostname}}-site"
  children:
    dirs:
      hosts:
        d1: {x: "{{inventory_hostname}}-a", tag: d1tag, lb: "{{groups.dirs | length}}"}
    rs:
      hosts:
        r1:
          x: "{{inventory_hostname}}-a"
          y: "{{hostvars.d1.x}}+{{hostvars.d1.tag}}"
          c1: "{{hostvars.r1.c2}}"
          c2: "{{hostvars.r1.c1}}"
          brace: '\\{{inventory_hostname}} \\{{hostvars.d1.x}}'
`;

describe('hostvars', () => {
  it("a host's variables render in that host's context, reached from another host's task or variable", async () => {
    const r = await runFlow(
      `- hosts: r1
  tasks:
    - command: echo {{hostvars.d1.x}} {{x}}
    - command: echo {{y}}
    - command: echo {{hostvars.r1.y}}
    - command: echo {{hostvars.d1.site}} {{site}}
    - command: echo {{hostvars.d1.inventory_hostname}} {{hostvars.d1.group_names}}
`,
      INV,
    );
    expect(r.s.exitCode, JSON.stringify(r.s.results.map((x) => x.msg))).toBe(0);
    expect(cmds(r.t.r1!)).toEqual([
      'echo d1-a r1-a',
      'echo d1-a+d1tag',
      'echo d1-a+d1tag',
      'echo d1-site r1-site',
      'echo d1 dirs',
    ]);
  });

  it('variables that name each other through hostvars fail as a cycle, not a hang', async () => {
    const r = await runFlow(`- hosts: r1\n  tasks:\n    - command: echo {{c1}}\n`, INV);
    expect(r.s.exitCode).toBe(2);
    expect(r.s.results[0]!.msg).toMatch(/refer to each other in a cycle/);
    expect(cmds(r.t.r1!)).toEqual([]);
  });

  it('a variable that renders to template text stays text when another host reads it', async () => {
    // r1's brace is `\{{inventory_hostname}} \{{hostvars.d1.x}}`: Handlebars' escape, rendered to
    // braces once; rendered again it would name d1's values.
    const r = await runFlow(`- hosts: d1\n  tasks:\n    - command: echo {{hostvars.r1.brace}}\n`, INV);
    expect(r.s.exitCode, JSON.stringify(r.s.results.map((x) => x.msg))).toBe(0);
    expect(cmds(r.t.d1!)).toEqual(["echo '{{inventory_hostname}}' '{{hostvars.d1.x}}'"]);
  });

  it('prototype names and unknown hosts are undefined variables, as a missing host is; nothing runs', async () => {
    for (const e of ['hostvars.constructor', 'hostvars.__proto__', 'hostvars.d1.constructor', 'hostvars.nohost.x']) {
      const r = await runFlow(`- hosts: r1\n  tasks:\n    - command: echo [{{${e}}}]\n`, INV);
      expect(r.s.exitCode, e).toBe(2);
      expect(r.s.results[0]!.msg, e).toContain(`undefined variable '${e}'`);
      expect(cmds(r.t.r1!), e).toEqual([]);
    }
  });

  it('a host name that is not a Handlebars path is reached with lookup, in its own context too', async () => {
    const inv = INV.replace('d1: {x:', '"lb-1": {x: "{{inventory_hostname}}-b"}\n        d1: {x:');
    const r = await runFlow(
      `- hosts: r1\n  tasks:\n    - command: echo {{lookup (lookup hostvars "lb-1") "x"}}\n`,
      inv,
    );
    expect(r.s.exitCode, JSON.stringify(r.s.results.map((x) => x.msg))).toBe(0);
    expect(cmds(r.t.r1!)).toEqual(['echo lb-1-b']);
  });
});
