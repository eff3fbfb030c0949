import { MISSING, ownData } from './own-data.js';

/**
 * Equality as Jinja has it: numbers and booleans by value (true == 1), lists item by item and
 * mappings key by key (own keys only, any order); a string never equals a number.
 */
export function same(a: unknown, b: unknown, depth = 0): boolean {
  const num = (x: unknown): x is number | boolean => typeof x === 'number' || typeof x === 'boolean';
  if (num(a) && num(b)) return Number(a) === Number(b);
  if (a === b) return true;
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) return false;
  // Data from YAML may share nodes (anchors) but is finite; this bounds a pathological nesting.
  if (depth > MAX_COMPARE_DEPTH) return false;
  if (Array.isArray(a)) {
    const bl = b as unknown[];
    return a.length === bl.length && a.every((x, i) => same(x, bl[i], depth + 1));
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => {
    const y = ownData(b, k);
    return y !== MISSING && same(ownData(a, k), y, depth + 1);
  });
}
const MAX_COMPARE_DEPTH = 100;
