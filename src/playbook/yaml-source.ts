import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isSeq, isPair, isScalar, type Node } from 'yaml';
import { ConfigError } from '../errors.js';

export type Path = ReadonlyArray<string | number>;
export interface Pos { line: number; col: number }

/** A YAML file with its data and a way back from a data path to file:line:col. Only yaml-source.ts imports yaml. */
export interface YamlSource {
  file: string;
  data: unknown;
  pos(path: Path): Pos | undefined;
}

export function parseYamlText(text: string, file: string): YamlSource {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const p = lc.linePos(first.pos[0]);
    throw new ConfigError('E_YAML', `invalid YAML: ${first.message.split('\n')[0]}`, {
      where: { file, line: p.line, col: p.col },
      hint: 'check indentation and quoting; a value starting with {{ must be quoted',
    });
  }
  const data = doc.toJS({ maxAliasCount: 1000 });
  const pos = (path: Path): Pos | undefined => {
    let node: unknown = doc.contents;
    let keyNode: unknown;
    for (const seg of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
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
  return { file, data, pos };
}

export function loadYamlFile(file: string): YamlSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('E_CONFIG', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { where: { file } });
  }
  return parseYamlText(text, file);
}

