/**
 * Dictionaries keyed by user text (symbols, column names, parameter names). A plain `{}` answers
 * `constructor`, `toString` or `hasOwnProperty` from its prototype and treats `__proto__` as the
 * prototype itself, so a data file named `constructor-1m.csv` would read or overwrite the wrong
 * thing. These helpers give objects without a prototype and lookups of own keys only.
 */

/**
 * An empty object without a prototype: every key, `__proto__` included, is an ordinary key.
 * Prints, spreads and serialises to JSON like a plain object.
 * @example const d = dict<number>(); d['constructor'] = 1; d.constructor // 1
 */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * The value stored under `key` itself, never one inherited from the prototype.
 * @returns the own value, or undefined when `obj` has no own property `key`.
 * @example ownValue({}, 'constructor') // undefined (not Object)
 */
export function ownValue<T>(obj: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}
