import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheFileFor, CODE_CACHE_ENV, encodeCacheFile, MIN_CACHED_BYTES, readCacheFile, type CodeCacheReport } from '../../src/notebook/runner/codeCache';
import { REPO_ROOT } from '../support/paths';

const PRELOAD = join(REPO_ROOT, 'dist', 'notebook', 'runner', 'codeCache.js');

describe('kernel code cache files', () => {
  it('round-trips framed data and refuses a flipped byte, a truncation and another module\'s file', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 256));
    const framed = encodeCacheFile('/m/typescript.js', data);
    const back = readCacheFile(framed, '/m/typescript.js');
    expect(back.ok && back.data.equals(data)).toBe(true);
    const flipped = Buffer.from(framed);
    flipped[flipped.length - 10] ^= 1;
    expect(readCacheFile(flipped, '/m/typescript.js').ok).toBe(false);
    expect(readCacheFile(framed.subarray(0, framed.length - 1), '/m/typescript.js').ok).toBe(false);
    expect(readCacheFile(framed, '/m/other.js').ok).toBe(false);
    expect(readCacheFile(Buffer.from('garbage'), '/m/typescript.js').ok).toBe(false);
  });

  it('names a cache file by the module\'s path, size and mtime', () => {
    const a = cacheFileFor('/c', '/m/a.js', { size: 10, mtimeMs: 1 });
    expect(a).toMatch(/^\/c\/[0-9a-f]{32}\.bin$/);
    expect(cacheFileFor('/c', '/m/a.js', { size: 10, mtimeMs: 1 })).toBe(a);
    expect(cacheFileFor('/c', '/m/a.js', { size: 11, mtimeMs: 1 })).not.toBe(a);
    expect(cacheFileFor('/c', '/m/a.js', { size: 10, mtimeMs: 2 })).not.toBe(a);
    expect(cacheFileFor('/c', '/m/b.js', { size: 10, mtimeMs: 1 })).not.toBe(a);
  });
});

describe('kernel code cache preload', () => {
  // A module large enough to be cached, with a result that shows it ran with the right require.
  const dir = mkdtempSync(join(tmpdir(), 'qb-codecache-'));
  const big = join(dir, 'big.js');
  const filler = `// ${'x'.repeat(100)}\n`.repeat(Math.ceil(MIN_CACHED_BYTES / 100));
  writeFileSync(big, `${filler}const path = require('node:path');\nmodule.exports = { sum: [1, 2, 3].reduce((a, b) => a + b, 0), base: path.basename(__filename), self: require.resolve('./big.js') };\n`);
  const main = join(dir, 'main.js');
  writeFileSync(main, "process.stdout.write(JSON.stringify(require('./big.js')));\n");
  const cacheDir = join(dir, 'cache');

  function runOnce(): { out: unknown; report: CodeCacheReport } {
    const reportFile = join(dir, 'report.json');
    const r = spawnSync(process.execPath, ['--require', PRELOAD, main], {
      env: { ...process.env, [CODE_CACHE_ENV]: JSON.stringify({ dir: cacheDir, reportFile }) }, encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    return { out: JSON.parse(r.stdout), report: JSON.parse(readFileSync(reportFile, 'utf8')) as CodeCacheReport };
  }

  it('compiles from source and writes the cache, then runs from it; a corrupt file is counted and replaced', () => {
    const expected = { sum: 6, base: 'big.js', self: big };
    const first = runOnce();
    expect(first).toEqual({ out: expected, report: { hits: 0, misses: 1, corrupt: 0, rejected: 0 } });
    const files = readdirSync(cacheDir);
    expect(files).toHaveLength(1);
    expect(runOnce()).toEqual({ out: expected, report: { hits: 1, misses: 0, corrupt: 0, rejected: 0 } });

    const file = join(cacheDir, files[0]);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(file, bytes);
    expect(runOnce()).toEqual({ out: expected, report: { hits: 0, misses: 0, corrupt: 1, rejected: 0 } });
    expect(runOnce().report).toEqual({ hits: 1, misses: 0, corrupt: 0, rejected: 0 }); // replaced at exit

    // Data that passes the checksum but that V8 refuses (not a code cache): counted as rejected, replaced.
    writeFileSync(file, encodeCacheFile(big, Buffer.from('not a V8 code cache at all, but framed correctly')));
    expect(runOnce()).toEqual({ out: expected, report: { hits: 0, misses: 0, corrupt: 0, rejected: 1 } });
    expect(runOnce().report.hits).toBe(1);
  }, 60_000);

  it('does nothing without its environment variable', () => {
    const r = spawnSync(process.execPath, ['--require', PRELOAD, main], { env: { ...process.env, [CODE_CACHE_ENV]: '' }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sum: 6 });
  });
});
