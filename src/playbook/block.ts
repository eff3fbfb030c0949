import { BLOCK_KEYWORDS, BLOCK_SECTIONS, type BlockFrame } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

/** What the tasks of a block inherit (its keywords, merged with the blocks around it) and where they sit. */
export interface BlockScope {
  kw: Obj;
  frames: BlockFrame[];
}

export const NO_BLOCK: BlockScope = { kw: {}, frames: [] };

/** A task-list entry that is a block (Ansible: a mapping with a `block` key). */
export const isBlockEntry = (raw: Obj): boolean => Object.prototype.hasOwnProperty.call(raw, 'block');

/** The keys a block may hold: its sections and its keywords. */
export const BLOCK_KEYS: readonly string[] = [...BLOCK_SECTIONS, ...BLOCK_KEYWORDS];

/**
 * `inner`'s keywords over `outer`'s, as Ansible inherits them: conditions add up (outer first, all
 * must hold), tags add up, vars merge (inner wins), any other keyword set inside wins. `name` is the
 * block's own and is not inherited.
 */
export function inherit(outer: Obj, inner: Obj): Obj {
  const out: Obj = { ...inner };
  for (const [k, v] of Object.entries(outer)) {
    if (v === undefined || v === null || k === 'name') continue;
    const own = inner[k];
    if (k === 'when' || k === 'tags') out[k] = own === undefined || own === null ? v : [...list(v), ...list(own)];
    else if (k === 'vars') out[k] = isObj(v) && isObj(own) ? { ...v, ...own } : (own ?? v);
    else if (own === undefined || own === null) out[k] = v;
  }
  return out;
}

/** The keywords of a block entry that its tasks inherit. */
export function blockKeywords(raw: Obj): Obj {
  const out: Obj = {};
  for (const k of BLOCK_KEYWORDS) if (k !== 'name' && raw[k] !== undefined && raw[k] !== null) out[k] = raw[k];
  return out;
}
