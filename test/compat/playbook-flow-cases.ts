/**
 * Small playbooks both ansible-playbook and lvsrun run unchanged (their templates are both Jinja and
 * Handlebars). Hosts: h01, h02 (directors), h03, h04 (realservers); each sshd sets its own HOME, so
 * `echo "$HOME"` tells which host a command ran on. A case writes files under `{{ out }}` (or `{{ rel }}`, the
 * same folder as a relative path) and `{{ inventory_hostname }}`: the test compares what each tool wrote.
 */
export interface FlowCase {
  id: string;
  playbook: string;
  /** Options given to both tools (such as `--tags`). */
  args?: string[];
  /** Files beside the playbook (roles, included task files), by relative path. */
  files?: Record<string, string>;
}

const play = (hosts: string, body: string, extra = ''): string =>
  `- name: ${hosts} play\n  hosts: ${hosts}\n  gather_facts: false\n${extra}  tasks:\n${body}`;

// Every kind of tag set `--tags` and `--skip-tags` tell apart, with a play tag on none of them.
const tagPlay = play(
  'h01',
  `    - name: untagged
      command: /bin/true
    - name: tag a
      command: /bin/true
      tags: a
    - name: tag always
      command: /bin/true
      tags: always
    - name: tag always and a
      command: /bin/true
      tags: [always, a]
    - name: tag never
      command: /bin/true
      tags: never
    - name: tag never and b
      command: /bin/true
      tags: [never, b]
    - block:
        - name: block tag c
          command: /bin/true
      tags: c
`,
);
const tagOptions: ReadonlyArray<[string, string[]]> = [
  ['tags-tagged', ['--tags', 'tagged']],
  ['tags-untagged', ['--tags', 'untagged']],
  ['tags-untagged-and-b', ['--tags', 'untagged,b']],
  ['skip-tagged', ['--skip-tags', 'tagged']],
  ['skip-untagged', ['--skip-tags', 'untagged']],
  ['tags-tagged-skip-a', ['--tags', 'tagged', '--skip-tags', 'a']],
  ['skip-always', ['--skip-tags', 'always']],
  ['skip-all', ['--skip-tags', 'all']],
  ['tags-all-never', ['--tags', 'all,never']],
];

// include_tasks (dynamic: its own when and tags decide, it counts ok) beside import_tasks (static: each
// imported task inherits them), with vars on both, in a block, and nested.
const includePlay = play(
  'h01:h03',
  `    - name: include
      include_tasks: inc.yml
      vars:
        iv: include
      when: inventory_hostname == 'h01'
    - name: import
      import_tasks: inc.yml
      vars:
        iv: import
      when: inventory_hostname != 'h01'
    - name: tagged include
      include_tasks: inc.yml
      vars:
        iv: tagged
      tags: b
    - block:
        - name: include in a block
          include_tasks: nested.yml
          vars:
            iv: block
      when: inventory_hostname != 'h03'
      tags: c
`,
);
const includeFiles = {
  'inc.yml': `- name: inc untagged
  command: /bin/true
- name: inc tag a
  command: /bin/true
  tags: a
- name: inc writes with its vars
  copy:
    dest: "{{ out }}/{{ inventory_hostname }}-{{ iv }}"
    content: "{{ iv }}\\n"
`,
  'nested.yml': `- name: nested include
  include_tasks: inc.yml
  tags: a
- name: after the nested include
  command: /bin/true
  tags: [a, c]
`,
};
const includeOptions: ReadonlyArray<[string, string[]]> = [
  ['include-import', []],
  ['include-tags-a', ['--tags', 'a']],
  ['include-tags-b', ['--tags', 'b']],
  ['include-tags-c', ['--tags', 'c']],
  ['include-skip-b', ['--skip-tags', 'b']],
  ['include-tags-tagged', ['--tags', 'tagged']],
  ['include-tags-untagged', ['--tags', 'untagged']],
];

export const FLOW_CASES: readonly FlowCase[] = [
  ...includeOptions.map(([id, args]) => ({ id, playbook: includePlay, args, files: includeFiles })),
  ...tagOptions.map(([id, args]) => ({ id, playbook: tagPlay, args })),
  {
    id: 'block-rescue-always',
    playbook: play(
      'all',
      `    - name: outer
      block:
        - name: b1
          command: /bin/true
        - name: b2
          command: /bin/false
          when: inventory_hostname == 'h03'
        - name: b3
          command: /bin/true
      rescue:
        - name: r1
          assert:
            that:
              - ansible_failed_task.name == 'b2'
              - ansible_failed_result.rc == 1
      always:
        - name: a1
          command: /bin/true
    - name: after
      command: /bin/true
`,
    ),
  },
  {
    id: 'block-unrescued',
    playbook: play(
      'all',
      `    - block:
        - name: b1
          command: /bin/false
          when: inventory_hostname in groups.realservers
        - name: b2
          command: /bin/true
      always:
        - name: a1
          command: /bin/true
    - name: after
      command: /bin/true
`,
    ),
  },
  {
    id: 'block-nested-rescue-fails',
    playbook: play(
      'h01:h03',
      `    - block:
        - block:
            - name: inner
              command: /bin/false
              when: inventory_hostname == 'h03'
            - name: inner next
              command: /bin/true
          always:
            - name: inner always
              command: /bin/true
        - name: outer next
          command: /bin/true
      rescue:
        - name: outer rescue
          assert:
            that: ["ansible_failed_task.name == 'inner'"]
        - name: rescue fails
          command: /bin/false
      always:
        - name: outer always
          command: /bin/true
`,
    ),
  },
  {
    id: 'block-keywords',
    playbook: play(
      'all',
      `    - block:
        - name: sees block vars
          assert:
            that: greeting == 'hello'
        - name: own vars win
          assert:
            that: greeting == 'bye'
          vars:
            greeting: bye
        - name: own when too
          command: /bin/true
          when: inventory_hostname == 'h01'
      when: inventory_hostname in groups.directors
      vars:
        greeting: hello
`,
    ),
  },
  {
    id: 'pre-post-handlers',
    playbook: `- name: sections
  hosts: h01:h03
  gather_facts: false
  post_tasks:
    - name: post
      command: /bin/true
      notify: report
  tasks:
    - name: main
      command: /bin/true
      notify: report
  pre_tasks:
    - name: pre
      command: /bin/true
      notify: report
  handlers:
    - name: report
      command: /bin/true
`,
  },
  {
    id: 'run-once',
    playbook: play(
      'all',
      `    - name: once
      shell: echo "$HOME"
      run_once: true
      register: once
    - name: everyone sees it
      assert:
        that:
          - once.stdout is defined
          - "'/h01/' in once.stdout"
    - name: once failing
      command: /bin/false
      run_once: true
      when: false
    - name: after
      command: /bin/true
`,
    ),
  },
  {
    id: 'run-once-serial-fails',
    playbook: play(
      'all',
      `    - name: first
      command: /bin/true
    - name: once
      command: /bin/false
      run_once: true
      when: inventory_hostname == 'h03'
    - name: after
      command: /bin/true
`,
      '  serial: 2\n',
    ),
  },
  {
    id: 'delegate-loop',
    playbook: play(
      'realservers',
      `    - name: on every director
      shell: echo "$HOME {{ inventory_hostname }}"
      loop: "{{ groups.directors }}"
      delegate_to: "{{ item }}"
      register: d
    - name: ran there, for this host
      assert:
        that:
          - "'/h01/' in d.results[0].stdout"
          - "'/h02/' in d.results[1].stdout"
          - inventory_hostname in d.results[0].stdout
    - name: to one host
      shell: echo "$HOME"
      delegate_to: h02
      register: one
    - name: on h02
      assert:
        that: "'/h02/' in one.stdout"
`,
    ),
  },
  {
    id: 'any-errors-fatal',
    playbook: play(
      'all',
      `    - name: first
      command: /bin/true
    - name: boom
      command: /bin/false
      when: inventory_hostname == 'h03'
    - name: after
      command: /bin/true
`,
      '  any_errors_fatal: true\n',
    ),
  },
  {
    id: 'any-errors-fatal-rescued',
    playbook: play(
      'all',
      `    - block:
        - name: boom
          command: /bin/false
          when: inventory_hostname == 'h03'
      rescue:
        - name: handled
          command: /bin/true
    - name: after
      command: /bin/true
`,
      '  any_errors_fatal: true\n',
    ),
  },
  {
    id: 'any-errors-fatal-in-block',
    playbook: play(
      'all',
      `    - block:
        - name: boom
          command: /bin/false
          when: inventory_hostname == 'h03'
        - name: not reached
          command: /bin/true
      always:
        - name: cleanup
          command: /bin/true
    - name: after
      command: /bin/true
`,
      '  any_errors_fatal: true\n',
    ),
  },
  {
    id: 'run-once-delegated-in-block',
    playbook: play(
      'realservers',
      `    - block:
        - name: once on a director
          shell: echo "$HOME"
          run_once: true
          delegate_to: h02
          register: where
        - name: every host sees where it ran
          assert:
            that: "'/h02/' in where.stdout"
        - name: fails once for all
          command: /bin/false
          run_once: true
      rescue:
        - name: each host rescued
          command: /bin/true
`,
    ),
  },
  {
    id: 'serial-block-rescue',
    playbook: play(
      'all',
      `    - block:
        - name: fails on h02 and h04
          command: /bin/false
          when: inventory_hostname in ['h02', 'h04']
      rescue:
        - name: rescue
          command: /bin/true
      always:
        - name: always
          command: /bin/true
`,
      '  serial: 2\n',
    ),
  },
  {
    id: 'throttle',
    playbook: play(
      'all',
      `    - name: one at a time
      command: /bin/true
      throttle: 1
    - block:
        - name: two at a time
          command: /bin/true
      throttle: 2
`,
    ),
  },
  {
    id: 'ignore-errors-recap',
    playbook: play(
      'all',
      `    - name: command fails, ignored
      command: /bin/false
      when: inventory_hostname in groups.realservers
      ignore_errors: true
    - name: assert fails, ignored
      assert:
        that: inventory_hostname == 'h01'
      ignore_errors: true
    - name: after
      command: /bin/true
`,
    ),
  },
  {
    id: 'when-types',
    playbook: play(
      'h01:h03',
      `    - name: string equals number
      command: /bin/true
      when: s == 5
    - name: string differs from number
      command: /bin/true
      when: s != 5
    - name: converted
      command: /bin/true
      when: s | int == 5 and t == 1
    - name: string in list of numbers
      command: /bin/true
      when: s in [5]
    - name: string ordered against number
      command: /bin/true
      when: inventory_hostname == 'h03' and s < 6
    - name: after
      command: /bin/true
`,
      '  vars:\n    s: "5"\n    t: true\n',
    ),
  },
  {
    id: 'when-compare-content',
    playbook: play(
      'h01',
      `    - name: equal lists
      command: /bin/true
      when: l == ['a', 'b']
    - name: lists in another order
      command: /bin/true
      when: l == ['b', 'a']
    - name: lists differ
      command: /bin/true
      when: l != ['a']
    - name: mappings in another key order
      command: /bin/true
      when: m1 == m2
    - name: mappings differ
      command: /bin/true
      when: m1 != m3
    - name: list in list of lists
      command: /bin/true
      when: l in [['a', 'b']]
`,
      '  vars:\n    l: [a, b]\n    m1: {x: 1, y: [1, 2]}\n    m2: {y: [1, 2], x: 1}\n    m3: {x: 1, y: [2, 1]}\n',
    ),
  },
  {
    // lvs_root is "<root>/{{ inventory_hostname }}" in the inventory: read through hostvars, it is h01's.
    id: 'hostvars-own-context',
    playbook: play(
      'h03',
      `    - name: another host's templated variable
      copy:
        dest: "{{ out }}/{{ inventory_hostname }}.txt"
        content: "{{ hostvars.h01.lvs_root }} {{ lvs_root }}\\n"
        mode: "0640"
`,
    ),
  },
  {
    id: 'registered-deep',
    playbook: play(
      'h01:h03',
      `    - name: look
      stat:
        path: /etc
      register: s
    - name: say
      command: echo hello
      register: r
    - name: write what was registered
      copy:
        dest: "{{ out }}/{{ inventory_hostname }}.txt"
        content: "{{ s.stat.path }} {{ r.stdout }}\\n"
        mode: "0640"
`,
    ),
  },
  {
    id: 'files',
    playbook: play(
      'h01:h02',
      `    - name: folder
      file:
        path: "{{ out }}/{{ inventory_hostname }}"
        state: directory
        mode: "0750"
    - name: content
      copy:
        dest: "{{ out }}/{{ inventory_hostname }}/conf"
        content: "host {{ inventory_hostname }}\\n"
        mode: "0600"
    - name: again, unchanged
      copy:
        dest: "{{ out }}/{{ inventory_hostname }}/conf"
        content: "host {{ inventory_hostname }}\\n"
        mode: "0600"
    - name: touched
      file:
        path: "{{ out }}/{{ inventory_hostname }}/flag"
        state: touch
        mode: "0644"
    - name: link
      file:
        path: "{{ out }}/{{ inventory_hostname }}/current"
        src: conf
        state: link
    - name: mode only
      file:
        path: "{{ out }}/{{ inventory_hostname }}/conf"
        mode: "0640"
`,
    ),
  },
  {
    id: 'role-vars-after-role',
    playbook: `- name: roles
  hosts: h01:h03
  gather_facts: false
  vars:
    v1: play
    d2: play
  pre_tasks:
    - name: pre_tasks see every role's defaults and vars
      assert:
        that: ["d1 == 'r2 default'", "v1 == 'r1 vars'", "rp == 'param'", "d2 == 'play'"]
  roles:
    - role: r1
      vars:
        rp: param
    - r2
  tasks:
    - name: tasks after the roles see them
      assert:
        that: ["d1 == 'r2 default'", "v1 == 'r1 vars'", "v2 == 'r2 vars'", "rp == 'param'", "d2 == 'play'"]
    - name: written with them
      copy:
        dest: "{{ out }}/{{ inventory_hostname }}"
        content: "{{ d1 }} {{ v1 }} {{ v2 }} {{ d2 }}\\n"
`,
    files: {
      'roles/r1/defaults/main.yml': 'd1: r1 default\nd2: r1 default\n',
      'roles/r1/vars/main.yml': 'v1: r1 vars\n',
      'roles/r1/tasks/main.yml':
        "- name: own defaults win over another role's\n  assert:\n    that: [\"d1 == 'r1 default'\", \"v2 == 'r2 vars'\"]\n",
      'roles/r2/defaults/main.yml': 'd1: r2 default\n',
      'roles/r2/vars/main.yml': 'v2: r2 vars\n',
      'roles/r2/tasks/main.yml': '- name: r2 task\n  assert:\n    that: "d1 == \'r2 default\'"\n',
    },
  },
  {
    id: 'file-directory-parents',
    playbook: play(
      'h01:h04',
      `    - name: parents get the mode, owner and group
      file:
        path: "{{ out }}/{{ inventory_hostname }}/a/b"
        state: directory
        mode: "0750"
        owner: nobody
        group: nogroup
    - name: a symbolic mode
      file:
        path: "{{ out }}/{{ inventory_hostname }}/s/t"
        state: directory
        mode: u=rwx,g=rx,o=
    - name: a relative path with a mode
      file:
        path: "{{ rel }}/{{ inventory_hostname }}-rel/c/d"
        state: directory
        mode: "0700"
    - name: a relative path's mode changed
      file:
        path: "{{ rel }}/{{ inventory_hostname }}-rel/c"
        mode: "0755"
    - name: a relative file touched
      file:
        path: "{{ rel }}/{{ inventory_hostname }}-rel/c/f"
        state: touch
        mode: "0600"
`,
    ),
  },
];
