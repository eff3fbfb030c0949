import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SchemaName } from '../schemas/documents.js';

/**
 * The files `lvsrun init` writes: an operations folder that uses the shipped roles and passes
 * `lvsrun validate site.yaml -i inventories/example` as written. Paths are relative to the folder.
 * `schema`: the editor schema (schemas/NAME.json) its first line points the YAML language server at.
 */
export interface ScaffoldFile {
  path: string;
  text: string;
  mode: number;
  schema?: SchemaName;
}

const SITE = `# The LVS-DR cluster of this folder: a keepalived pair of directors in front of nginx real servers.
#   lvsrun validate site.yaml -i inventories/example      check the inventory; touches no host
#   lvsrun site.yaml -i inventories/example --check --diff what would change
#   lvsrun site.yaml -i inventories/example                converge
# lvs_director and lvs_realserver are lvsrun's shipped roles; a folder of the same name under roles/
# here (or on roles_path in lvsrun.cfg) is used instead.
- name: LVS directors (keepalived + ipvsadm)
  hosts: directors
  roles:
    - lvs_director

- name: LVS-DR real servers (nginx, VIP on lo, ARP sysctls)
  hosts: realservers
  roles:
    - lvs_realserver
`;

const HOSTS = `# The hosts of this cluster (Ansible's INI inventory). Replace the names and addresses with yours.
# The MASTER director has the highest priority; the others are BACKUP.
[directors]
lb1 ansible_host=192.0.2.11 keepalived_state=MASTER keepalived_priority=100
lb2 ansible_host=192.0.2.12 keepalived_state=BACKUP keepalived_priority=90

[realservers]
rs1 ansible_host=192.0.2.21
rs2 ansible_host=192.0.2.22
`;

const ALL = `# Variables of every host. docs/lvs.md lists every lvs_* variable and its default.
ansible_user: root
lvs_method: DR            # DR, NAT or TUN: the same for directors and real servers
lvs_vip: 192.0.2.100      # the virtual IP clients connect to
lvs_port: 80
`;

const DIRECTORS = `# Variables of the directors.
lvs_interface: eth0       # the interface VRRP runs on and the VIP is added to
lvs_vrid: 51              # virtual_router_id: unique per cluster on one network segment
# The VRRP password comes from vault.yml beside this file, so that file alone holds the secret.
lvs_auth_pass: "{{vault_lvs_auth_pass}}"
`;

const VAULT = `# Secrets of the directors. Encrypt this file before committing it, with the vault password in
# .vault-pass (mode 0600; .gitignore keeps it out of the repository):
#   lvsrun vault encrypt inventories/example/group_vars/directors/vault.yml --vault-password-file .vault-pass
# Then every command that reads the inventory takes --vault-password-file .vault-pass (or -J to type it).
vault_lvs_auth_pass: ChangeMe   # at most 8 characters (keepalived uses only the first 8)
`;

const REALSERVERS = `# Variables of the real servers.
lvs_vip_interface: lo     # DR: the VIP lives on lo, hidden from ARP
# lvs_weight: 1           # per host in hosts: 0 drains a real server
`;

const GITIGNORE = `# Run journals: they hold the previous content of changed files.
.lvsrun/
# The vault password.
.vault-pass
`;

const CFG = `# lvsrun's settings for this folder, read when lvsrun runs here (or from $LVSRUN_CONFIG).
[defaults]
# Folders searched for roles after roles/ next to the playbook; lvsrun's shipped roles come last.
# Separate several with ':'; relative paths are relative to this file. LVSRUN_ROLES_PATH overrides it.
roles_path = roles
# Hosts changed in parallel (-f on the command line overrides it).
forks = 50
`;

const README = `# LVS operations

This folder describes an LVS cluster for lvsrun (\`lvsrun --help\`, \`lvsrun COMMAND --help\`).

| file | what to edit |
|---|---|
| \`inventories/example/hosts\` | your directors and real servers: names, \`ansible_host\`, which director is MASTER |
| \`inventories/example/group_vars/all.yml\` | the VIP, the port and the forwarding method (DR, NAT, TUN) |
| \`inventories/example/group_vars/directors/vars.yml\` | the interface VRRP runs on, the VRID |
| \`inventories/example/group_vars/directors/vault.yml\` | the VRRP password; encrypt it (below) before committing |
| \`inventories/example/group_vars/realservers/vars.yml\` | real-server settings |
| \`site.yaml\` | the plays; it uses lvsrun's shipped roles \`lvs_director\` and \`lvs_realserver\` |
| \`lvsrun.cfg\` | where roles are found, how many hosts run in parallel |

Rename \`inventories/example\` after your environment (\`inventories/prod\`) and keep one folder per
environment. Then:

\`\`\`
lvsrun validate site.yaml -i inventories/example          # check everything; touches no host
lvsrun site.yaml -i inventories/example --check --diff    # what would change
lvsrun site.yaml -i inventories/example                   # converge; a failed host is rolled back
lvsrun runs                                               # the runs journaled here
lvsrun rollback                                           # undo the newest run
\`\`\`

Run journals go to \`.lvsrun/\` (kept out of git: they hold the previous content of changed files).

The VRRP password lives in \`vault.yml\` alone so that it can be encrypted with Ansible Vault. Put a
vault password in \`.vault-pass\` (mode 0600, kept out of git), encrypt the file, and from then on
give every command that reads the inventory \`--vault-password-file .vault-pass\` (or \`-J\` to type
the password):

\`\`\`
lvsrun vault encrypt inventories/example/group_vars/directors/vault.yml --vault-password-file .vault-pass
lvsrun validate site.yaml -i inventories/example --vault-password-file .vault-pass
lvsrun vault edit inventories/example/group_vars/directors/vault.yml --vault-password-file .vault-pass
\`\`\`
`;

export const SCAFFOLD: readonly ScaffoldFile[] = [
  { path: 'site.yaml', text: SITE, mode: 0o644, schema: 'playbook' },
  { path: 'inventories/example/hosts', text: HOSTS, mode: 0o644 },
  { path: 'inventories/example/group_vars/all.yml', text: ALL, mode: 0o644, schema: 'group_vars' },
  { path: 'inventories/example/group_vars/directors/vars.yml', text: DIRECTORS, mode: 0o644, schema: 'group_vars' },
  { path: 'inventories/example/group_vars/directors/vault.yml', text: VAULT, mode: 0o600, schema: 'group_vars' },
  { path: 'inventories/example/group_vars/realservers/vars.yml', text: REALSERVERS, mode: 0o644, schema: 'group_vars' },
  { path: '.gitignore', text: GITIGNORE, mode: 0o644 },
  { path: 'lvsrun.cfg', text: CFG, mode: 0o644 },
  { path: 'README.md', text: README, mode: 0o644 },
];

/**
 * A scaffolded file as written: YAML files start with the YAML language server's modeline naming
 * the schema shipped in `schemaDir` (a file: URL, so that a space in the path cannot end it).
 */
export function scaffoldText(f: ScaffoldFile, schemaDir: string): string {
  if (!f.schema) return f.text;
  const url = pathToFileURL(join(schemaDir, `${f.schema}.json`)).href;
  return `# yaml-language-server: $schema=${url}\n${f.text}`;
}
