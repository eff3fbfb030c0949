import type { InvCase } from './ansible-oracle.js';

const ini = (id: string, text: string, extra: Record<string, string> = {}): InvCase => ({
  id,
  files: { hosts: text, ...extra },
});
const yml = (id: string, text: string, extra: Record<string, string> = {}): InvCase => ({
  id,
  files: { 'hosts.yml': text, ...extra },
});

/** Inventories run through ansible-inventory and lvsrun inventory: Ansible's documented examples, then corners. */
export const INVENTORY_CASES: InvCase[] = [
  // Ansible's "How to build your inventory" examples.
  ini(
    'doc-basic-ini',
    `
mail.example.com

[webservers]
foo.example.com
bar.example.com

[dbservers]
one.example.com
two.example.com
three.example.com
`,
  ),
  yml(
    'doc-basic-yaml',
    `
all:
  hosts:
    mail.example.com:
  children:
    webservers:
      hosts:
        foo.example.com:
        bar.example.com:
    dbservers:
      hosts:
        one.example.com:
        two.example.com:
        three.example.com:
`,
  ),
  ini(
    'doc-multi-group-ini',
    `
[webservers]
foo.example.com
bar.example.com

[dbservers]
one.example.com
two.example.com
three.example.com

[east]
foo.example.com
one.example.com
two.example.com

[west]
bar.example.com
three.example.com

[prod]
foo.example.com
one.example.com
two.example.com

[test]
bar.example.com
three.example.com
`,
  ),
  yml(
    'doc-multi-group-yaml',
    `
all:
  hosts:
    mail.example.com:
  children:
    webservers:
      hosts:
        foo.example.com:
        bar.example.com:
    dbservers:
      hosts:
        one.example.com:
        two.example.com:
        three.example.com:
    east:
      hosts:
        foo.example.com:
        one.example.com:
        two.example.com:
    west:
      hosts:
        bar.example.com:
        three.example.com:
    prod:
      hosts:
        foo.example.com:
        one.example.com:
        two.example.com:
    test:
      hosts:
        bar.example.com:
        three.example.com:
`,
  ),
  yml(
    'doc-children-yaml',
    `
all:
  hosts:
    mail.example.com:
  children:
    webservers:
      hosts:
        foo.example.com:
        bar.example.com:
    dbservers:
      hosts:
        one.example.com:
        two.example.com:
        three.example.com:
    east:
      hosts:
        foo.example.com:
        one.example.com:
        two.example.com:
    west:
      hosts:
        bar.example.com:
        three.example.com:
    prod:
      children:
        east:
    test:
      children:
        west:
`,
  ),
  ini(
    'doc-range-ini',
    `
[webservers]
www[01:50].example.com

[databases]
db-[a:f].example.com
`,
  ),
  yml(
    'doc-range-yaml',
    `
all:
  children:
    webservers:
      hosts:
        www[01:50].example.com:
`,
  ),
  yml(
    'doc-range-step-yaml',
    `
all:
  children:
    webservers:
      hosts:
        www[01:50:2].example.com:
`,
  ),
  ini(
    'doc-host-vars-ini',
    `
[atlanta]
host1 http_port=80 maxRequestsPerChild=808
host2 http_port=303 maxRequestsPerChild=909
`,
  ),
  yml(
    'doc-host-vars-yaml',
    `
atlanta:
  hosts:
    host1:
      http_port: 80
      maxRequestsPerChild: 808
    host2:
      http_port: 303
      maxRequestsPerChild: 909
`,
  ),
  ini('doc-port-ini', 'badwolf.example.com:5309\n'),
  ini('doc-alias-ini', 'jumper ansible_port=5555 ansible_host=192.0.2.50\n'),
  yml(
    'doc-alias-yaml',
    `
all:
  hosts:
    jumper:
      ansible_port: 5555
      ansible_host: 192.0.2.50
`,
  ),
  ini(
    'doc-connection-ini',
    `
[targets]

localhost              ansible_connection=local
other1.example.com     ansible_connection=ssh        ansible_user=myuser
other2.example.com     ansible_connection=ssh        ansible_user=myotheruser
`,
  ),
  ini(
    'doc-group-vars-ini',
    `
[atlanta]
host1
host2

[atlanta:vars]
ntp_server=ntp.atlanta.example.com
proxy=proxy.atlanta.example.com
`,
  ),
  yml(
    'doc-group-vars-yaml',
    `
atlanta:
  hosts:
    host1:
    host2:
  vars:
    ntp_server: ntp.atlanta.example.com
    proxy: proxy.atlanta.example.com
`,
  ),
  ini(
    'doc-inherit-ini',
    `
[atlanta]
host1
host2

[raleigh]
host2
host3

[southeast:children]
atlanta
raleigh

[southeast:vars]
some_server=foo.southeast.example.com
halon_system_timeout=30
self_destruct_countdown=60
escape_pods=2

[usa:children]
southeast
northeast
southwest
northwest

[northeast]
[southwest]
[northwest]
`,
  ),
  yml(
    'doc-inherit-yaml',
    `
all:
  children:
    usa:
      children:
        southeast:
          children:
            atlanta:
              hosts:
                host1:
                host2:
            raleigh:
              hosts:
                host2:
                host3:
          vars:
            some_server: foo.southeast.example.com
            halon_system_timeout: 30
            self_destruct_countdown: 60
            escape_pods: 2
        northeast:
        northwest:
        southwest:
`,
  ),
  yml(
    'doc-group-priority-yaml',
    `
a_group:
  vars:
    testvar: a
    ansible_group_priority: 10
b_group:
  vars:
    testvar: b
`,
    {},
  ),
  yml(
    'doc-group-priority-hosts',
    `
a_group:
  hosts:
    h1:
  vars:
    testvar: a
    ansible_group_priority: 10
b_group:
  hosts:
    h1:
  vars:
    testvar: b
`,
  ),
  ini(
    'doc-group-vars-files',
    `
[raleigh]
h1
[webservers]
h1
h2
`,
    {
      'group_vars/raleigh': `
---
ntp_server: acme.example.org
database_server: storage.example.org
`,
      'group_vars/webservers.yml': 'http_port: 8080\n',
      'host_vars/h2.yml': 'http_port: 9090\n',
    },
  ),
  ini(
    'doc-all-ungrouped',
    `
lonely
[g]
member
`,
  ),
  // Ports in host names.
  ini(
    'port-ini-names',
    `
badwolf.example.com:5309
host:2201
10.0.0.5:2202
`,
  ),
  ini(
    'port-ipv6',
    `
[v6]
[2001:db8::2]:2222
2001:db8::3
`,
  ),
  yml(
    'port-yaml',
    `
all:
  hosts:
    host:2201:
    10.0.0.5:2202:
      x: 1
`,
  ),
  ini('port-with-var', 'h:2201 ansible_port=22\n'),
  // INI value types.
  ini('ini-types-host', "h a=true b=yes c=1.5 d='[1,2]' e=None f=010 g=0x1F h=-3 i=\"quoted str\" j=False k={'k':1}\n"),
  ini(
    'ini-types-groupvars',
    `
[g]
h
[g:vars]
a=true
b=yes
c=1.5
d=[1,2]
e=None
f=010
g=0x1F
h=-3
i="quoted str"
j=a b c
`,
  ),
  ini(
    'ini-comment-in-value',
    `
h x=1 # c
h2 y="a # b"
`,
  ),
  // INI comments and keys.
  ini(
    'ini-header-comment',
    `
[web]   # comment
w1
[db] ; note
d1
`,
  ),
  ini(
    'ini-header-hash-comment',
    `
[web]   # comment
w1
[site:children]  # parents
web
[site:vars] #v
x=1
`,
  ),
  ini(
    'ini-children-comment',
    `
[web]
w1
[site:children]
web  # frontends
`,
  ),
  ini(
    'ini-odd-keys',
    `
[g]
h
[g:vars]
my key=1
a.b=2
a-b=3
`,
  ),
  ini(
    'ini-semicolon-comments',
    `
; top comment
[g]
; another
h
`,
  ),
  ini(
    'ini-spaces-around-eq',
    `
[g]
h
[g:vars]
x = 1
y= two
`,
  ),
  // Precedence.
  ini(
    'prec-inline-vs-files',
    `
[web]
w1
[web:vars]
x=inline
y=inline
`,
    { 'group_vars/all.yml': 'x: all-file\n' },
  ),
  ini(
    'prec-all-vars',
    `
h
[all:vars]
x=inv-all
[g]
h
[g:vars]
y=g
`,
    {
      'group_vars/all.yml': `
y: all-file
z: 1
`,
    },
  ),
  ini(
    'prec-priority',
    `
[a]
h
[b]
h
[a:vars]
v=a
ansible_group_priority=10
[b:vars]
v=b
`,
  ),
  ini(
    'prec-priority-in-file',
    `
[a]
h
[b]
h
`,
    {
      'group_vars/a.yml': `
v: a
ansible_group_priority: 10
`,
      'group_vars/b.yml': 'v: b\n',
    },
  ),
  ini(
    'prec-byte-order',
    `
[B]
h
[a]
h
[B:vars]
v=B
[a:vars]
v=a
`,
  ),
  ini(
    'prec-depth',
    `
[child]
h
[parent:children]
child
[parent:vars]
v=parent
[child:vars]
v=child
`,
  ),
  ini(
    'prec-host-beats-group',
    `
[g]
h v=host
[g:vars]
v=group
`,
    { 'group_vars/g.yml': 'v: file\n', 'host_vars/h.yml': 'w: hostfile\n' },
  ),
  // Structure.
  yml(
    'struct-all-hosts-and-group',
    `
all:
  hosts:
    h1:
    h2:
  children:
    g:
      hosts:
        h1:
`,
  ),
  ini(
    'struct-ungrouped-vars',
    `
h1
[ungrouped:vars]
u=1
[g]
h1
h2
`,
  ),
  ini(
    'struct-undefined-child',
    `
[x:children]
nope
`,
  ),
  yml(
    'struct-yaml-unknown-key',
    `
all:
  children:
    g:
      hosts:
        h1:
      colour: blue
`,
  ),
  ini(
    'struct-empty-groups',
    `
[empty]
[g]
h
[parent:children]
empty
`,
  ),
  yml(
    'struct-yaml-empty-group',
    `
all:
  children:
    empty:
    g:
      hosts:
        h:
`,
  ),
  yml(
    'struct-yaml-ungrouped-order',
    `
all:
  children:
    z:
      hosts:
        a:
  hosts:
    b:
`,
  ),
  ini(
    'struct-host-twice',
    `
[g]
h x=1
h y=2
[k]
h x=3
`,
  ),
  yml(
    'struct-yaml-host-in-two',
    `
g1:
  hosts:
    h:
      a: 1
g2:
  hosts:
    h:
      b: 2
`,
  ),
  ini(
    'struct-all-children',
    `
[all:children]
g
[g]
h
`,
  ),
  // Files.
  ini('files-nested-host-vars', 'w1\n', { 'host_vars/w1/main.yml': 'a: 1\n', 'host_vars/w1/sub/more.yml': 'b: 2\n' }),
  ini(
    'files-dir-and-file',
    `
[web]
w
[db]
d
`,
    {
      'group_vars/web/a.yml': 'x: dir\n',
      'group_vars/web.yml': 'y: file\n',
      'group_vars/db.yml': 'p: yml\n',
      'group_vars/db.yaml': 'q: yaml\n',
    },
  ),
  {
    id: 'files-folder-ini-skipped',
    source: 'inv',
    files: {
      'inv/a.ini': `
[fromini]
i1
`,
      'inv/hosts': `
[plain]
p1
`,
      'inv/b.yml': `
all:
  hosts:
    y1:
`,
    },
  },
  {
    id: 'files-folder-vars',
    source: 'inv',
    files: {
      'inv/hosts.yml': `
all:
  children:
    g:
      hosts:
        h:
`,
      'inv/group_vars/g.yml': 'x: 1\n',
      'inv/host_vars/h': 'y: 2\n',
    },
  },
  ini(
    'files-hidden-and-backup',
    `
[g]
h
`,
    { 'group_vars/g/.hidden.yml': 'a: 1\n', 'group_vars/g/main.yml~': 'b: 2\n', 'group_vars/g/ok.yml': 'c: 3\n' },
  ),
  // Ranges.
  ini(
    'range-letters-upper',
    `
[g]
h[A:C]
`,
  ),
  ini(
    'range-open-begin',
    `
[g]
n[:2]
`,
  ),
  ini(
    'range-two',
    `
[g]
r[1:2]-[a:b]
`,
  ),
  ini(
    'range-step',
    `
[g]
w[1:10:3]
`,
  ),
  ini(
    'range-vars',
    `
[g]
w[1:2] x=1
`,
  ),
  // YAML 1.1 scalars.
  yml(
    'yaml11-booleans',
    `
all:
  hosts:
    h:
      a: yes
      b: no
      c: on
      d: off
      e: true
      f: "yes"
      g: Yes
      h: y
`,
  ),
  yml(
    'yaml11-numbers',
    `
all:
  hosts:
    h:
      mode: 0644
      hex: 0x1F
      sexa: 1:30
      float: 1.5
      plain: 010
      neg: -7
      big: 1_000
`,
  ),
  yml(
    'yaml11-null',
    `
all:
  hosts:
    h:
      a: ~
      b: null
      c:
      d: Null
`,
  ),
  // Hostile data stays data.
  ini(
    'hostile-names',
    `
[g]
h x={{ lookup("pipe","id") }}
[g:vars]
y=__proto__
`,
  ),
  ini(
    'hostile-quoted',
    `
[g]
h x='{{ lookup("pipe","id") }}' __proto__=1 constructor=2
[g:vars]
toString=3
y="\\"; rm -rf /"
`,
  ),
  yml(
    'hostile-proto',
    `
all:
  hosts:
    h:
      constructor: 1
      toString: 2
`,
  ),
  // Secrets are redacted by lvsrun (an intended difference).
  ini(
    'secret-redacted',
    `
[g]
h ansible_password=hunter2 note=plain
`,
  ),
  // lvsrun-style inventories.
  yml(
    'lvs-style',
    `
all:
  vars:
    ansible_user: root
  children:
    directors:
      hosts:
        lb1: {ansible_host: 10.0.0.1}
        lb2: {ansible_host: 10.0.0.2}
    realservers:
      hosts:
        rs[1:3]:
      vars:
        weight: 1
`,
  ),
];
