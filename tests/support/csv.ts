import { writeFileSync } from 'node:fs';

/** Bar rows as written to a CSV: ISO time, open, high, low, close, volume. */
export type CsvBar = [string, number, number, number, number, number];

/**
 * `n` one-minute bars of a seeded random walk from `start` (UTC), clean unless changed after.
 * The same seed gives the same rows.
 * @example walkRows(3, 1)[0][0] // '2024-01-01T00:00:00.000Z'
 */
export function walkRows(n: number, seed = 1, start = Date.UTC(2024, 0, 1), stepMs = 60_000): CsvBar[] {
  let x = seed >>> 0 || 1;
  const uniform = (): number => {
    // xorshift32: fixed sequence per seed
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
  const rows: CsvBar[] = [];
  let price = 100;
  for (let i = 0; i < n; i++) {
    const open = price;
    price *= 1 + (uniform() - 0.5) * 0.002;
    const close = price;
    rows.push([new Date(start + i * stepMs).toISOString(), open, Math.max(open, close) * 1.0005, Math.min(open, close) * 0.9995, close,
      1 + Math.floor(uniform() * 100)]);
  }
  return rows;
}

/** Writes rows under the header `ts,open,high,low,close,volume`; infinities as `inf`, NaN as `NaN` (what polars reads as floats). */
export function writeCsv(path: string, rows: readonly CsvBar[], header = 'ts,open,high,low,close,volume'): string {
  const cell = (v: string | number): string => (v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v));
  writeFileSync(path, `${header}\n${rows.map((r) => r.map(cell).join(',')).join('\n')}\n`);
  return path;
}

/** Symbols that are also names of `Object.prototype` members (or the prototype itself). */
export const PROTOTYPE_SYMBOLS = ['constructor', '__proto__', 'toString', 'hasOwnProperty'] as const;
