import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { loadYamlFile, parseYamlText } from '../yaml/source.js';
import { assignOwn } from '../data/own-record.js';
import type { VaultKeyring } from '../vault/keyring.js';

/** -e k=v, -e 'k=v k2=v2', -e @file.yaml, -e '{"k": 1}'. Later ones win. `vault` opens encrypted files. */
export function parseExtraVars(list: string[], cwd = process.cwd(), vault?: VaultKeyring): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const e of list) {
    if (e.startsWith('@')) {
      const src = loadYamlFile(resolve(cwd, e.slice(1)), vault);
      if (!isObj(src.data))
        throw new ConfigError('E_USAGE', `-e ${e}: the file must hold a mapping`, { where: { file: src.file } });
      assignOwn(out, src.data);
    } else if (/^\s*[{]/.test(e)) {
      const src = parseYamlText(e, '-e', vault);
      if (!isObj(src.data)) throw new ConfigError('E_USAGE', `-e ${e}: expected a mapping`);
      assignOwn(out, src.data);
    } else {
      for (const w of e.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? []) {
        const eq = w.indexOf('=');
        if (eq <= 0)
          throw new ConfigError('E_USAGE', `-e '${w}': expected key=value, @file.yaml or a JSON/YAML mapping`);
        out[w.slice(0, eq)] = w.slice(eq + 1).replace(/^(["'])(.*)\1$/, '$2');
      }
    }
  }
  return out;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
