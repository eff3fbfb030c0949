import { existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, didYouMean } from '../errors.js';

/**
 * lvsrun.cfg: an operations folder's defaults, in the INI shape of ansible.cfg:
 *
 *   [defaults]
 *   roles_path = roles:/srv/lvs/roles
 *   forks = 20
 *
 * Found at $LVSRUN_CONFIG, else ./lvsrun.cfg. LVSRUN_ROLES_PATH overrides roles_path, as
 * ANSIBLE_ROLES_PATH does in Ansible. Command-line options override both.
 */
export interface CliConfig {
  file?: string;
  rolesPath: string[];
  forks?: number;
}

export const CONFIG_NAME = 'lvsrun.cfg';
const KEYS = ['roles_path', 'forks'] as const;
const MAX_BYTES = 1 << 20;

export function loadConfig(cwd: string, env: NodeJS.ProcessEnv): CliConfig {
  const named = env.LVSRUN_CONFIG;
  const file = named ? resolve(cwd, named) : join(cwd, CONFIG_NAME);
  if (named && !existsSync(file)) {
    throw new ConfigError('E_CONFIG', `LVSRUN_CONFIG names ${file}, which does not exist`);
  }
  const cfg: CliConfig = existsSync(file) ? parseConfig(readConfig(file), file, env) : { rolesPath: [] };
  const envPath = env.LVSRUN_ROLES_PATH;
  if (envPath) cfg.rolesPath = splitPath(envPath, cwd, env);
  return cfg;
}

function readConfig(file: string): string {
  const st = statSync(file);
  if (!st.isFile()) throw new ConfigError('E_CONFIG', `${file} is not a file`, { where: { file } });
  if (st.size > MAX_BYTES) throw new ConfigError('E_CONFIG', `${file} is larger than 1 MiB`, { where: { file } });
  return readFileSync(file, 'utf8');
}

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): CliConfig {
  const cfg: CliConfig = { file, rolesPath: [] };
  let section = '';
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    const where: { file: string; line: number; field?: string } = { file, line: i + 1 };
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[([^\]]*)\]$/.exec(line);
    if (sec) {
      section = sec[1]!.trim();
      if (section !== 'defaults') {
        const hint = 'lvsrun.cfg has one section, [defaults]';
        throw new ConfigError('E_CONFIG', `unknown section [${section}]`, { where, hint });
      }
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new ConfigError('E_CONFIG', 'expected key = value', { where, hint: 'e.g. roles_path = roles' });
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    where.field = key;
    if (section !== 'defaults') throw new ConfigError('E_CONFIG', 'settings go under [defaults]', { where });
    if (key === 'roles_path') cfg.rolesPath = splitPath(value, dirname(file), env);
    else if (key === 'forks') {
      const n = Number(value);
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
        throw new ConfigError('E_CONFIG', `forks must be a positive whole number, got ${JSON.stringify(value)}`, {
          where,
        });
      }
      cfg.forks = n;
    } else {
      const hint = didYouMean(key, KEYS) ?? `settings are: ${KEYS.join(', ')}`;
      throw new ConfigError('E_CONFIG', `unknown setting '${key}'`, { where, hint });
    }
  }
  return cfg;
}

/** a:b:~/c, each relative to `base` (the config file's folder, or the working folder for the variable). */
function splitPath(value: string, base: string, env: NodeJS.ProcessEnv): string[] {
  return value
    .split(delimiter)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => (p === '~' || p.startsWith('~/') ? join(env.HOME ?? '~', p.slice(1)) : p))
    .map((p) => (isAbsolute(p) ? p : resolve(base, p)));
}
