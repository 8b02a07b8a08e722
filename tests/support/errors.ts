import { expect } from 'vitest';

/**
 * Runs `f`, expects it to throw an instance of `kind`, and returns that error so a test can
 * assert its message and location fields. Fails the test when nothing or something else is thrown.
 * @example thrownBy(() => loadBars(p), DataError).location.row // 3
 */
export function thrownBy<E extends Error>(f: () => unknown, kind: abstract new (...args: never[]) => E): E {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(kind);
    return err as E;
  }
  throw new Error(`expected a ${kind.name}, nothing was thrown`);
}
