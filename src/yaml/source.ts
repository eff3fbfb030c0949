import { readFileSync } from 'node:fs';
import {
  LineCounter,
  parseDocument,
  visit,
  isMap,
  isSeq,
  isPair,
  isScalar,
  YAMLMap,
  YAMLSeq,
  type Node,
  type Pair,
  type Tags,
} from 'yaml';
import { ConfigError, type Where } from '../errors.js';
import type { VaultKeyring } from '../vault/keyring.js';
import { SecretScalar, VaultCiphertext, openVaultText, revealVault } from '../vault/reveal.js';

export type Path = ReadonlyArray<string | number>;
export interface Pos {
  line: number;
  col: number;
}

/** A YAML file with its data and a way back from a data path to file:line:col. Only this file imports yaml. */
export interface YamlSource {
  file: string;
  data: unknown;
  pos(path: Path): Pos | undefined;
}

/** Aliases may expand to at most this many nodes in one document (a "billion laughs" guard). */
export const MAX_ALIAS_COUNT = 1000;

/**
 * Larger YAML inputs are refused before parsing: runbooks, inventories and vars files are far
 * smaller, and parsing stays well within seconds below this size.
 */
export const MAX_YAML_BYTES = 1024 * 1024;

// Ansible's `!vault` tag: a scalar holds vault text; on a mapping or list it is an error, reported after parsing.
const VAULT_TAGS = [
  { tag: '!vault', resolve: (s: string) => new VaultCiphertext(s) },
  { tag: '!vault', collection: 'map' as const, nodeClass: YAMLMap, resolve: () => new VaultCiphertext(null) },
  { tag: '!vault', collection: 'seq' as const, nodeClass: YAMLSeq, resolve: () => new VaultCiphertext(null) },
  // `!secret`: a plain scalar that output hides, whatever its variable is named.
  { tag: '!secret', resolve: (s: string) => new SecretScalar(s) },
];

/**
 * `vault` decrypts a vault-encrypted file and `!vault` values; without it, vault data is an error.
 * The size limit applies to the YAML that is parsed: a whole encrypted file's plaintext.
 */
export function parseYamlText(rawText: string, file: string, vault?: VaultKeyring): YamlSource {
  const { text, whole } = openVaultText(rawText, file, vault);
  if (text.length > MAX_YAML_BYTES) {
    const msg = `${file} is ${text.length} characters long (YAML inputs hold at most ${MAX_YAML_BYTES})`;
    throw new ConfigError('E_YAML', msg, {
      where: { file },
      hint: 'split it into several files (group_vars/NAME/ may be a folder of files)',
    });
  }
  const lc = new LineCounter();
  // Keys are checked for uniqueness below, in linear time (the parser's own check is quadratic).
  const doc = parseDocument(text, {
    lineCounter: lc,
    prettyErrors: false,
    uniqueKeys: false,
    version: '1.1',
    customTags: (tags: Tags) => [...asPyYaml(tags), ...VAULT_TAGS],
  });
  const at = (offset: number | undefined): { file: string; line?: number; col?: number } => {
    if (offset === undefined) return { file };
    const p = lc.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  const first = doc.errors[0];
  if (first) {
    const deep = /Maximum call stack/.test(first.message);
    const msg = deep ? 'invalid YAML: nested too deeply' : `invalid YAML: ${first.message.split('\n')[0]}`;
    throw new ConfigError('E_YAML', msg, {
      where: at(first.pos[0]),
      hint: deep ? 'flatten the structure' : 'check indentation and quoting; a value starting with {{ must be quoted',
    });
  }
  checkStructure(doc, at);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (e instanceof Error && /^Merge sources/.test(e.message)) {
      let firstMerge: number | undefined;
      visit(doc, {
        Pair(_k, p) {
          if (!isScalar(p.key) || p.key.source !== '<<') return undefined;
          firstMerge = p.key.range?.[0];
          return visit.BREAK;
        },
      });
      throw new ConfigError('E_YAML', 'invalid YAML: a merge key (<<) takes a mapping or a list of mappings', {
        where: at(firstMerge),
        hint: 'write `<<: *anchor` where &anchor names a mapping, or quote "<<" to use it as a key',
      });
    }
    if (!(e instanceof ReferenceError) || !/alias count/i.test(e.message)) throw e;
    let firstAlias: number | undefined;
    visit(doc, {
      Alias(_k, n) {
        firstAlias = n.range?.[0];
        return visit.BREAK;
      },
    });
    throw new ConfigError('E_YAML', 'invalid YAML: aliases expand to too many nodes', {
      where: at(firstAlias),
      hint: `aliases (*name) may expand to at most ${MAX_ALIAS_COUNT} nodes; write the data out`,
    });
  }
  // Each mapping's keys indexed once, so that looking up many positions stays linear.
  const index = new WeakMap<YAMLMap, Map<string, Pair>>();
  const pairOf = (m: YAMLMap, key: string): Pair | undefined => {
    let keys = index.get(m);
    if (!keys) {
      keys = new Map();
      for (const it of m.items) if (isPair(it) && isScalar(it.key)) keys.set(String(it.key.value), it);
      index.set(m, keys);
    }
    return keys.get(key);
  };
  const pos = (path: Path): Pos | undefined => {
    let node: unknown = doc.contents;
    let keyNode: unknown;
    for (const seg of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = pairOf(node, String(seg));
        if (!pair) return posOf(node);
        keyNode = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
      } else return posOf(node);
    }
    return posOf(keyNode ?? node);
  };
  function posOf(n: unknown): Pos | undefined {
    const r = (n as Node | undefined)?.range;
    if (!r) return undefined;
    const p = lc.linePos(r[0]);
    return { line: p.line, col: p.col };
  }
  return { file, data: revealVault(data, { file, pos, whole, ...(vault ? { vault } : {}) }), pos };
}

/** Duplicate keys (linear: one set per mapping) and aliases that contain themselves are bad input. */
function checkStructure(doc: ReturnType<typeof parseDocument>, at: (offset: number | undefined) => Where): void {
  visit(doc, {
    Map(_k, m) {
      const seen = new Map<string, Node>();
      for (const it of m.items) {
        if (!isScalar(it.key)) continue;
        const k = String(it.key.value);
        const prev = seen.get(k);
        if (prev) {
          const line = at(prev.range?.[0]).line;
          const first = line ? ` (first at line ${line})` : '';
          throw new ConfigError('E_YAML', `invalid YAML: duplicate key '${clip(k)}'${first}`, {
            where: at(it.key.range?.[0]),
            hint: 'each key may appear once in a mapping; remove or rename one',
          });
        }
        seen.set(k, it.key);
      }
    },
    Alias(_k, a, path) {
      const target = a.resolve(doc);
      if (!target) {
        const name = clip(a.source);
        throw new ConfigError('E_YAML', `invalid YAML: alias *${name} has no anchor &${name} before it`, {
          where: at(a.range?.[0]),
          hint: 'set the anchor (&name) on a value above the alias (*name)',
        });
      }
      if (path.includes(target)) {
        throw new ConfigError('E_YAML', `invalid YAML: alias *${clip(a.source)} refers to a node that contains it`, {
          where: at(a.range?.[0]),
          hint: 'a recursive alias never ends; write the data out',
        });
      }
    },
  });
}

/**
 * Ansible reads YAML 1.1 with PyYAML's resolvers: yes/no/on/off are booleans (but not y/n), 0644 is octal,
 * 1:30 is sexagesimal, a float needs a dot (1e3 stays text) and dates stay text.
 */
function asPyYaml(tags: Tags): Tags {
  const retest: Record<string, RegExp> = {
    'bool:true': /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/,
    'bool:false': /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/,
    'int:': /^[-+]?(?:0|[1-9][0-9_]*)$/,
    'float:EXP': /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)[eE][-+][0-9]+$/,
    'float:': /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)$/,
  };
  const out: Tags = [];
  for (const t of tags) {
    if (typeof t !== 'object' || !('tag' in t)) {
      out.push(t);
      continue;
    }
    const kind = t.tag.replace('tag:yaml.org,2002:', '');
    if (kind === 'timestamp') continue;
    const src = String(t.test);
    const key = kind === 'bool' ? `bool:${src.includes('[Tt]rue') ? 'true' : 'false'}` : `${kind}:${t.format ?? ''}`;
    const test = src.includes('inf') ? undefined : retest[key];
    out.push(test && 'test' in t && t.test ? { ...t, test } : t);
  }
  return out;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function loadYamlFile(file: string, vault?: VaultKeyring): YamlSource {
  return parseYamlText(readSource(file), file, vault);
}

/** A playbook, inventory or vars file's text; one that cannot be read is bad input naming it. */
export function readSource(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('E_CONFIG', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      where: { file },
    });
  }
}
