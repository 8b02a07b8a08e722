/**
 * What a kernel process started by quantbook gets preloaded (`--require`): the watchdog, the bind
 * guard and the code cache, where their compiled scripts are, and the code cache's folder and report.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { NotebookError } from '../../core/errors';
import { packageRoot } from './build';
import type { CodeCacheReport } from './codeCache';
import type { CompileCacheReport } from './compileStore';

/**
 * A kernel preload (compiled `watchdog.js`, `bindGuard.js`, `codeCache.js`, `compileCache.js`) or the snapshot entry
 * (`snapshotEntry.js`): beside this file in `dist/`,
 * else in the package's `dist/` (when this file runs from `src/`, as in tests).
 * @throws NotebookError when it was never built.
 */
export function preloadScript(name: 'watchdog.js' | 'bindGuard.js' | 'codeCache.js' | 'compileCache.js' | 'snapshotEntry.js'): string {
  for (const candidate of [join(__dirname, name), join(packageRoot(), 'dist', 'notebook', 'runner', name)]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new NotebookError(`the kernel preload ${name} is not built (run npm run build in the quantbook folder)`, { file: join(__dirname, name) });
}

/**
 * A Node kernel command gets the watchdog, the bind guard (`bindGuard.ts`; once, whether or not
 * argv has it already, as the default argv does) and, unless turned off, the code cache
 * (`codeCache.ts`) and the compile cache (`compileCache.ts`) preloaded (`--require` right after the
 * Node binary); any other command is left as given.
 * @example withPreloads(['/usr/bin/node', 'tslab', 'kernel'], { codeCache: true, compileCache: true }).argv
 * // ['/usr/bin/node', '--require', '.../watchdog.js', '--require', '.../codeCache.js',
 * //  '--require', '.../compileCache.js', '--require', '.../bindGuard.js', 'tslab', 'kernel']
 */
export function withPreloads(argv: string[], caches: { codeCache: boolean; compileCache: boolean }): { argv: string[]; node: boolean } {
  const isNode = argv[0] === process.execPath || /^node(js)?(\.exe)?$/i.test(basename(argv[0] ?? ''));
  if (!isNode) return { argv, node: false };
  const guard = preloadScript('bindGuard.js');
  const rest = argv[1] === '--require' && argv[2] === guard ? argv.slice(3) : argv.slice(1);
  const names: Array<Parameters<typeof preloadScript>[0]> = [
    'watchdog.js',
    ...(caches.codeCache ? ['codeCache.js' as const] : []),
    ...(caches.compileCache ? ['compileCache.js' as const] : []),
    'bindGuard.js',
  ];
  const preloads = names.flatMap((name) => ['--require', preloadScript(name)]);
  return { argv: [argv[0], ...preloads, ...rest], node: true };
}

/** The project's cache folder of kernel code caches (see `codeCache.ts`); git-ignored. */
export function kernelCodeCacheDir(root = packageRoot()): string {
  return join(root, '.cache', 'kernel-code');
}

/** The project's cache folder of kernel compile results (see `compileCache.ts`); git-ignored. */
export function kernelCompileCacheDir(root = packageRoot()): string {
  return join(root, '.cache', 'kernel-compile');
}

/** The compile cache's counts from a kernel's report file; undefined when it wrote none or it cannot be read. */
export function readCompileCacheReport(file: string): CompileCacheReport | undefined {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<CompileCacheReport>;
    const n = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);
    return { hits: n(r.hits), misses: n(r.misses), stale: n(r.stale), corrupt: n(r.corrupt), uncacheable: n(r.uncacheable), unwritten: n(r.unwritten), ...(typeof r.off === 'string' ? { off: r.off } : {}) };
  } catch {
    return undefined;
  }
}

/** The code cache's counts from a kernel's report file; undefined when it wrote none or it cannot be read. */
export function readCodeCacheReport(file: string): CodeCacheReport | undefined {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<CodeCacheReport>;
    const n = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);
    return { hits: n(r.hits), misses: n(r.misses), corrupt: n(r.corrupt), rejected: n(r.rejected) };
  } catch {
    return undefined;
  }
}
