import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root. */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/** Recorded market data beside the project (`../shared/data/real`); CI has it. */
export const REAL_DATA = resolve(REPO_ROOT, '..', 'shared', 'data', 'real');

/** Path of a file under `../shared/data/real`, checked to exist. */
export function realData(...parts: string[]): string {
  const p = join(REAL_DATA, ...parts);
  if (!existsSync(p)) throw new Error(`real data file missing: ${p} (the tests expect ../shared/data/real beside the repo)`);
  return p;
}
