/**
 * The one way templates and conditions read a variable's member. Variables are data: only an
 * object's own data properties are visible, never an inherited member (`constructor`,
 * `__proto__`, `toString`), a getter, a function or a prototype object. Handing such a value to
 * Handlebars lets a template call it, which is how a playbook value becomes controller code.
 */
export const MISSING: unique symbol = Symbol('missing');

/** `container[key]` if it is an own data property holding data, else MISSING. */
export function ownData(container: unknown, key: string): unknown {
  if (container === null || typeof container !== 'object') return MISSING;
  const d = Object.getOwnPropertyDescriptor(container, key);
  if (!d || !('value' in d)) return MISSING;
  return isData(d.value) ? d.value : MISSING;
}

/** A value a variable may hold: a primitive, an array or a plain object; not a function or prototype. */
export function isData(v: unknown): boolean {
  if (typeof v === 'function' || typeof v === 'symbol') return false;
  if (v === null || typeof v !== 'object') return true;
  if (Array.isArray(v)) return v !== Array.prototype;
  const proto: unknown = Object.getPrototypeOf(v);
  // Object.prototype itself has a null prototype: tell it apart from Object.create(null) records.
  return (proto === Object.prototype || proto === null) && v !== Object.prototype;
}
