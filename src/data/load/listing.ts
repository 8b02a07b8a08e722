/**
 * Which files of a folder the bar loaders read. Kept free of polars so that code which only
 * needs the list (provenance hashing in notebooks) does not load it.
 */
import { readdirSync } from 'node:fs';

const LOADABLE = /\.(feather|arrow|ipc|parquet|pq|csv|tsv|json|jsonl|ndjson)$/i;

/**
 * The bar files of a folder that `loadBarsDir` loads: names with a loadable extension,
 * sorted, not recursive (subfolders and other files are not bar files).
 * @example loadableFiles('../shared/data/real/crypto-5m') // ['ADA_BTC-5m.feather', ...]
 */
export function loadableFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => LOADABLE.test(f))
    .sort();
}
