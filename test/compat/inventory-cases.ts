import type { InvCase } from './ansible-oracle.js';

const ini = (id: string, text: string, extra: Record<string, string> = {}): InvCase =>
  ({ id, files: { 'hosts': text, ...extra } });
const yml = (id: string, text: string, extra: Record<string, string> = {}): InvCase =>
  ({ id, files: { 'hosts.yml': text, ...extra } });

/** Inventories run through ansible-inventory and lvsrun inventory: Ansible's documented examples, then edge cases. */
export const INVENTORY_CASES: InvCase[] = [
  // Ansible's "How to build your inventory" examples.
  ini('doc-basic-ini', 'mail.example.com\n\n[webservers]\nfoo.example.com\nbar.example.com\n\n[dbservers]\none.example.com\ntwo.example.com\nthree.example.com\n'),
  yml('doc-basic-yaml', 'all:\n  hosts:\n    mail.example.com:\n  children:\n    webservers:\n      hosts:\n        foo.example.com:\n        bar.example.com:\n    dbservers:\n      hosts:\n        one.example.com:\n        two.example.com:\n        three.example.com:\n'),
  ini('doc-multi-group-ini', '[webservers]\nfoo.example.com\nbar.example.com\n\n[dbservers]\none.example.com\ntwo.example.com\nthree.example.com\n\n[east]\nfoo.example.com\none.example.com\ntwo.example.com\n\n[west]\nbar.example.com\nthree.example.com\n\n[prod]\nfoo.example.com\none.example.com\ntwo.example.com\n\n[test]\nbar.example.com\nthree.example.com\n'),
  yml('doc-multi-group-yaml', 'all:\n  hosts:\n    mail.example.com:\n  children:\n    webservers:\n      hosts:\n        foo.example.com:\n        bar.example.com:\n    dbservers:\n      hosts:\n        one.example.com:\n        two.example.com:\n        three.example.com:\n    east:\n      hosts:\n        foo.example.com:\n        one.example.com:\n        two.example.com:\n    west:\n      hosts:\n        bar.example.com:\n        three.example.com:\n    prod:\n      hosts:\n        foo.example.com:\n        one.example.com:\n        two.example.com:\n    test:\n      hosts:\n        bar.example.com:\n        three.example.com:\n'),
  yml('doc-children-yaml', 'all:\n  hosts:\n    mail.example.com:\n  children:\n    webservers:\n      hosts:\n        foo.example.com:\n        bar.example.com:\n    dbservers:\n      hosts:\n        one.example.com:\n        two.example.com:\n        three.example.com:\n    east:\n      hosts:\n        foo.example.com:\n        one.example.com:\n        two.example.com:\n    west:\n      hosts:\n        bar.example.com:\n        three.example.com:\n    prod:\n      children:\n        east:\n    test:\n      children:\n        west:\n'),
  ini('doc-range-ini', '[webservers]\nwww[01:50].example.com\n\n[databases]\ndb-[a:f].example.com\n'),
  yml('doc-range-yaml', 'all:\n  children:\n    webservers:\n      hosts:\n        www[01:50].example.com:\n'),
  yml('doc-range-step-yaml', 'all:\n  children:\n    webservers:\n      hosts:\n        www[01:50:2].example.com:\n'),
  ini('doc-host-vars-ini', '[atlanta]\nhost1 http_port=80 maxRequestsPerChild=808\nhost2 http_port=303 maxRequestsPerChild=909\n'),
  yml('doc-host-vars-yaml', 'atlanta:\n  hosts:\n    host1:\n      http_port: 80\n      maxRequestsPerChild: 808\n    host2:\n      http_port: 303\n      maxRequestsPerChild: 909\n'),
  ini('doc-port-ini', 'badwolf.example.com:5309\n'),
  ini('doc-alias-ini', 'jumper ansible_port=5555 ansible_host=192.0.2.50\n'),
  yml('doc-alias-yaml', 'all:\n  hosts:\n    jumper:\n      ansible_port: 5555\n      ansible_host: 192.0.2.50\n'),
  ini('doc-connection-ini', '[targets]\n\nlocalhost              ansible_connection=local\nother1.example.com     ansible_connection=ssh        ansible_user=myuser\nother2.example.com     ansible_connection=ssh        ansible_user=myotheruser\n'),
  ini('doc-group-vars-ini', '[atlanta]\nhost1\nhost2\n\n[atlanta:vars]\nntp_server=ntp.atlanta.example.com\nproxy=proxy.atlanta.example.com\n'),
  yml('doc-group-vars-yaml', 'atlanta:\n  hosts:\n    host1:\n    host2:\n  vars:\n    ntp_server: ntp.atlanta.example.com\n    proxy: proxy.atlanta.example.com\n'),
  ini('doc-inherit-ini', '[atlanta]\nhost1\nhost2\n\n[raleigh]\nhost2\nhost3\n\n[southeast:children]\natlanta\nraleigh\n\n[southeast:vars]\nsome_server=foo.southeast.example.com\nhalon_system_timeout=30\nself_destruct_countdown=60\nescape_pods=2\n\n[usa:children]\nsoutheast\nnortheast\nsouthwest\nnorthwest\n\n[northeast]\n[southwest]\n[northwest]\n'),
  yml('doc-inherit-yaml', 'all:\n  children:\n    usa:\n      children:\n        southeast:\n          children:\n            atlanta:\n              hosts:\n                host1:\n                host2:\n            raleigh:\n              hosts:\n                host2:\n                host3:\n          vars:\n            some_server: foo.southeast.example.com\n            halon_system_timeout: 30\n            self_destruct_countdown: 60\n            escape_pods: 2\n        northeast:\n        northwest:\n        southwest:\n'),
  yml('doc-group-priority-yaml', 'a_group:\n  vars:\n    testvar: a\n    ansible_group_priority: 10\nb_group:\n  vars:\n    testvar: b\n', {}),
  yml('doc-group-priority-hosts', 'a_group:\n  hosts:\n    h1:\n  vars:\n    testvar: a\n    ansible_group_priority: 10\nb_group:\n  hosts:\n    h1:\n  vars:\n    testvar: b\n'),
  ini('doc-group-vars-files', '[raleigh]\nh1\n[webservers]\nh1\nh2\n', {
    'group_vars/raleigh': '---\nntp_server: acme.example.org\ndatabase_server: storage.example.org\n',
    'group_vars/webservers.yml': 'http_port: 8080\n', 'host_vars/h2.yml': 'http_port: 9090\n',
  }),
  ini('doc-all-ungrouped', 'lonely\n[g]\nmember\n'),
  // Ports in host names.
  ini('port-ini-names', 'badwolf.example.com:5309\nhost:2201\n10.0.0.5:2202\n'),
  ini('port-ipv6', '[v6]\n[2001:db8::2]:2222\n2001:db8::3\n'),
  yml('port-yaml', 'all:\n  hosts:\n    host:2201:\n    10.0.0.5:2202:\n      x: 1\n'),
  ini('port-with-var', 'h:2201 ansible_port=22\n'),
  // INI value types.
  ini('ini-types-host', 'h a=true b=yes c=1.5 d=\'[1,2]\' e=None f=010 g=0x1F h=-3 i="quoted str" j=False k={\'k\':1}\n'),
  ini('ini-types-groupvars', '[g]\nh\n[g:vars]\na=true\nb=yes\nc=1.5\nd=[1,2]\ne=None\nf=010\ng=0x1F\nh=-3\ni="quoted str"\nj=a b c\n'),
  ini('ini-comment-in-value', 'h x=1 # c\nh2 y="a # b"\n'),
  // INI comments and keys.
  ini('ini-header-comment', '[web]   # comment\nw1\n[db] ; note\nd1\n'),
  ini('ini-header-hash-comment', '[web]   # comment\nw1\n[site:children]  # parents\nweb\n[site:vars] #v\nx=1\n'),
  ini('ini-children-comment', '[web]\nw1\n[site:children]\nweb  # frontends\n'),
  ini('ini-odd-keys', '[g]\nh\n[g:vars]\nmy key=1\na.b=2\na-b=3\n'),
  ini('ini-semicolon-comments', '; top comment\n[g]\n; another\nh\n'),
  ini('ini-spaces-around-eq', '[g]\nh\n[g:vars]\nx = 1\ny= two\n'),
  // Precedence.
  ini('prec-inline-vs-files', '[web]\nw1\n[web:vars]\nx=inline\ny=inline\n', { 'group_vars/all.yml': 'x: all-file\n' }),
  ini('prec-all-vars', 'h\n[all:vars]\nx=inv-all\n[g]\nh\n[g:vars]\ny=g\n', { 'group_vars/all.yml': 'y: all-file\nz: 1\n' }),
  ini('prec-priority', '[a]\nh\n[b]\nh\n[a:vars]\nv=a\nansible_group_priority=10\n[b:vars]\nv=b\n'),
  ini('prec-priority-in-file', '[a]\nh\n[b]\nh\n', { 'group_vars/a.yml': 'v: a\nansible_group_priority: 10\n', 'group_vars/b.yml': 'v: b\n' }),
  ini('prec-byte-order', '[B]\nh\n[a]\nh\n[B:vars]\nv=B\n[a:vars]\nv=a\n'),
  ini('prec-depth', '[child]\nh\n[parent:children]\nchild\n[parent:vars]\nv=parent\n[child:vars]\nv=child\n'),
  ini('prec-host-beats-group', '[g]\nh v=host\n[g:vars]\nv=group\n', { 'group_vars/g.yml': 'v: file\n', 'host_vars/h.yml': 'w: hostfile\n' }),
  // Structure.
  yml('struct-all-hosts-and-group', 'all:\n  hosts:\n    h1:\n    h2:\n  children:\n    g:\n      hosts:\n        h1:\n'),
  ini('struct-ungrouped-vars', 'h1\n[ungrouped:vars]\nu=1\n[g]\nh1\nh2\n'),
  ini('struct-undefined-child', '[x:children]\nnope\n'),
  yml('struct-yaml-unknown-key', 'all:\n  children:\n    g:\n      hosts:\n        h1:\n      colour: blue\n'),
  ini('struct-empty-groups', '[empty]\n[g]\nh\n[parent:children]\nempty\n'),
  yml('struct-yaml-empty-group', 'all:\n  children:\n    empty:\n    g:\n      hosts:\n        h:\n'),
  yml('struct-yaml-ungrouped-order', 'all:\n  children:\n    z:\n      hosts:\n        a:\n  hosts:\n    b:\n'),
  ini('struct-host-twice', '[g]\nh x=1\nh y=2\n[k]\nh x=3\n'),
  yml('struct-yaml-host-in-two', 'g1:\n  hosts:\n    h:\n      a: 1\ng2:\n  hosts:\n    h:\n      b: 2\n'),
  ini('struct-all-children', '[all:children]\ng\n[g]\nh\n'),
  // Files.
  ini('files-nested-host-vars', 'w1\n', { 'host_vars/w1/main.yml': 'a: 1\n', 'host_vars/w1/sub/more.yml': 'b: 2\n' }),
  ini('files-dir-and-file', '[web]\nw\n[db]\nd\n', {
    'group_vars/web/a.yml': 'x: dir\n', 'group_vars/web.yml': 'y: file\n',
    'group_vars/db.yml': 'p: yml\n', 'group_vars/db.yaml': 'q: yaml\n',
  }),
  { id: 'files-folder-ini-skipped', source: 'inv', files: {
    'inv/a.ini': '[fromini]\ni1\n', 'inv/hosts': '[plain]\np1\n', 'inv/b.yml': 'all:\n  hosts:\n    y1:\n',
  } },
  { id: 'files-folder-vars', source: 'inv', files: {
    'inv/hosts.yml': 'all:\n  children:\n    g:\n      hosts:\n        h:\n', 'inv/group_vars/g.yml': 'x: 1\n', 'inv/host_vars/h': 'y: 2\n',
  } },
  ini('files-hidden-and-backup', '[g]\nh\n', { 'group_vars/g/.hidden.yml': 'a: 1\n', 'group_vars/g/main.yml~': 'b: 2\n', 'group_vars/g/ok.yml': 'c: 3\n' }),
  // Ranges.
  ini('range-letters-upper', '[g]\nh[A:C]\n'),
  ini('range-open-begin', '[g]\nn[:2]\n'),
  ini('range-two', '[g]\nr[1:2]-[a:b]\n'),
  ini('range-step', '[g]\nw[1:10:3]\n'),
  ini('range-vars', '[g]\nw[1:2] x=1\n'),
  // YAML 1.1 scalars.
  yml('yaml11-booleans', 'all:\n  hosts:\n    h:\n      a: yes\n      b: no\n      c: on\n      d: off\n      e: true\n      f: "yes"\n      g: Yes\n      h: y\n'),
  yml('yaml11-numbers', 'all:\n  hosts:\n    h:\n      mode: 0644\n      hex: 0x1F\n      sexa: 1:30\n      float: 1.5\n      plain: 010\n      neg: -7\n      big: 1_000\n'),
  yml('yaml11-null', 'all:\n  hosts:\n    h:\n      a: ~\n      b: null\n      c:\n      d: Null\n'),
  // Hostile data stays data.
  ini('hostile-names', '[g]\nh x={{ lookup("pipe","id") }}\n[g:vars]\ny=__proto__\n'),
  ini('hostile-quoted', '[g]\nh x=\'{{ lookup("pipe","id") }}\' __proto__=1 constructor=2\n[g:vars]\ntoString=3\ny="\\"; rm -rf /"\n'),
  yml('hostile-proto', 'all:\n  hosts:\n    h:\n      constructor: 1\n      toString: 2\n'),
  // Secrets are redacted by lvsrun (an intended difference).
  ini('secret-redacted', '[g]\nh ansible_password=hunter2 note=plain\n'),
  // lvsrun-style inventories.
  yml('lvs-style', 'all:\n  vars:\n    ansible_user: root\n  children:\n    directors:\n      hosts:\n        lb1: {ansible_host: 10.0.0.1}\n        lb2: {ansible_host: 10.0.0.2}\n    realservers:\n      hosts:\n        rs[1:3]:\n      vars:\n        weight: 1\n'),
];
