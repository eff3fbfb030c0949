/**
 * Writes that keep every key as plain data. `obj[k] = v` and Object.assign run the `__proto__`
 * setter when a key is `__proto__` (a valid variable name in a YAML or INI file), which would
 * replace the record's prototype instead of storing the variable.
 */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Object.assign for variable records: every own enumerable key of `src` becomes an own key of `target`. */
export function assignOwn<T extends Record<string, unknown>>(target: T, src: Record<string, unknown> | undefined): T {
  if (src) for (const [k, v] of Object.entries(src)) setOwn(target, k, v);
  return target;
}
