/**
 * The kernel's V8 startup snapshot (`snapshotEntry.ts` says what it holds and why): which files it
 * parses, its cache key, building it in the background and telling a kernel start whether it is there.
 *
 * Trust: a blob is named by a hash of the Node version, V8, architecture, the entry script's,
 * TypeScript's and every parsed file's path, size and mtime; a sidecar records the blob's size,
 * and a blob of another size is counted as corrupt and removed. A parsed file is only ever reused
 * for the very same text (`snapshotEntry.ts`), so a stale entry can cost speed, never a wrong
 * type-check. A blob Node refuses (the kernel exits during start-up from it, and starts without it)
 * is removed and its key marked failed (`KernelClient.start`, reported in the run's warnings); a kernel
 * that exits at start-up without the blob too is broken for another reason and leaves the blob alone.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pidAlive } from '../../core/process';
import { packageRoot } from './build';
import { preloadScript } from './preloads';
import { SNAPSHOT_BUILD_ENV, type SnapshotBuildSpec, type SnapshotKernelReport } from './snapshotEntry';

/** tslab's parse target on Node 18+ (`converter.js` getTranspileTargets: ES2022 = 9). */
const LANGUAGE_VERSION = 9;

/** The lib files tslab's ES2022 program loads (`lib.es2022.d.ts` and what it references; not the DOM). */
const LIB_FILE = /^lib\.(es5|es20(15|16|17|18|19|20|21|22)(\.[a-z.]+)?|decorators(\.legacy)?)\.d\.ts$/;

/**
 * Packages whose declarations every notebook's kernel parses: the auto-included type roots
 * (`node_modules/@types/*`, with `undici-types` that `@types/node` imports) and the libraries that
 * every notebook or `dist/`'s declarations import (nodejs-polars, zod, onnxruntime).
 */
const DECLARATION_PACKAGES = ['undici-types', 'nodejs-polars', 'zod', 'onnxruntime-common', 'onnxruntime-node'];

/**
 * The source of the program type-checked while the snapshot is built (`snapshotEntry.ts`): what a
 * notebook's first cells use (polars, node:path, and zod, whose `z.infer` types `dist/`'s configs),
 * so the checker's code for them is compiled and the files bound.
 */
const WARM_SOURCE = [
  'export {};',
  "import * as pl from 'nodejs-polars';",
  "import { basename } from 'node:path';",
  "import { z } from 'zod';",
  'const config = z.object({ horizon: z.number().int().positive(), symbols: z.array(z.string()) });',
  'type Config = z.infer<typeof config>;',
  "const parsed: Config = config.parse({ horizon: 30, symbols: ['A'] });",
  'const df = pl.DataFrame({ a: [1, 2] });',
  "const mean = df.select(pl.col('a').mean());",
  "console.log(mean.height, parsed.horizon, basename('/a/b'), new Map<string, number>(), [1, 2].map((x) => x * 2));",
  '',
].join('\n');

/** tslab's type roots for a kernel in `dir` (`converter.js` getTypeRoots): every ancestor's `node_modules/@types`. */
function typeRootsFrom(dir: string): string[] {
  const roots: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    const r = join(d, 'node_modules', '@types');
    if (existsSync(r)) roots.push(r);
    if (dirname(d) === d) return roots;
  }
}

/**
 * The project's folder of kernel snapshots; git-ignored.
 * @example kernelSnapshotDir('/repo') // '/repo/.cache/kernel-snapshot'
 */
export function kernelSnapshotDir(root = packageRoot()): string {
  return join(root, '.cache', 'kernel-snapshot');
}

/** Declaration files (`.d.ts`, `.d.cts`, `.d.mts`) under a folder, real paths, sorted; none when it is missing. */
function declarationFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory() && e.name !== 'node_modules') walk(p);
      else if (/\.d\.[cm]?ts$/.test(e.name)) out.push(p);
    }
  };
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return out;
  }
  walk(real);
  return out.sort();
}

/**
 * What the snapshot would hold for this package: TypeScript's path, the files to parse (real
 * paths) and the warm-up program. Never throws: undefined when tslab or its TypeScript is missing.
 * @example snapshotBuildSpec('/repo')?.files.length // about 530 here
 */
export function snapshotBuildSpec(root = packageRoot()): SnapshotBuildSpec | undefined {
  let typescript: string;
  try {
    const tslab = dirname(require.resolve('tslab/package.json', { paths: [root] }));
    typescript = realpathSync(require.resolve('@tslab/typescript-for-tslab', { paths: [tslab] }));
  } catch {
    return undefined;
  }
  const libDir = dirname(typescript);
  const lib = readdirSync(libDir).filter((f) => LIB_FILE.test(f)).sort().map((f) => join(libDir, f));
  const modules = join(root, 'node_modules');
  let typeRoots: string[] = [];
  try {
    typeRoots = readdirSync(join(modules, '@types')).sort().map((d) => join(modules, '@types', d));
  } catch {
    // No type roots.
  }
  const files = [...lib, ...[...typeRoots, ...DECLARATION_PACKAGES.map((p) => join(modules, p))].flatMap(declarationFiles)];
  const dir = join(root, 'notebooks');
  return { typescript, files: [...new Set(files)], languageVersion: LANGUAGE_VERSION, warm: { dir, typeRoots: typeRootsFrom(dir), source: WARM_SOURCE } };
}

/**
 * The cache key of a snapshot: Node, V8, architecture, the warm-up program, the entry script's
 * path and content, and the path, size and mtime of TypeScript and every parsed file.
 * The entry is keyed on its content, not its mtime: `tsc` rewrites every file of dist/ at each
 * build (`npm run report` builds first), which made every build discard the snapshot, start that
 * report's kernels without it (measured: TypeScript 2.4-3.8 s CPU per kernel instead of about
 * 1.3 s) and build a new one (about 60 MB) beside them. The other files change only with an install.
 * @throws Error (from node:fs) when a file cannot be read or stat'ed.
 * @example snapshotKey(spec, '/dist/notebook/runner/snapshotEntry.js') // 32 hex digits
 */
export function snapshotKey(spec: SnapshotBuildSpec, entry: string): string {
  const h = createHash('sha256').update([process.version, process.versions.v8, process.arch, spec.languageVersion, JSON.stringify(spec.warm ?? null)].join('\0'));
  h.update(`\0${entry}\0`).update(readFileSync(entry));
  for (const f of [spec.typescript, ...spec.files]) {
    const s = statSync(f);
    h.update(`\0${f}\0${s.size}\0${s.mtimeMs}`);
  }
  return h.digest('hex').slice(0, 32);
}

/** Whether a kernel can start from a snapshot, and if not why. */
export type SnapshotState =
  | { state: 'ready'; blob: string }
  /** No blob for this key yet: one is being built in the background (by this call or another runner). */
  | { state: 'building' }
  /** A blob of the wrong size was found (removed; rebuilt in the background). */
  | { state: 'corrupt' }
  /** It cannot be built here (no tslab, another TypeScript, the build failed): why. */
  | { state: 'unavailable'; reason: string };

/**
 * The snapshot for a kernel start: the blob when it is built, else starts building it in the
 * background (a detached process that outlives this one; one builder per key, by a lock file).
 * @example const s = kernelSnapshot(kernelSnapshotDir()); if (s.state === 'ready') argv.splice(1, 0, '--snapshot-blob', s.blob);
 */
export function kernelSnapshot(dir: string, root = packageRoot()): SnapshotState {
  const spec = snapshotBuildSpec(root);
  if (!spec) return { state: 'unavailable', reason: 'tslab or its TypeScript is not installed' };
  const entry = preloadScript('snapshotEntry.js');
  let key: string;
  try {
    key = snapshotKey(spec, entry);
  } catch (err) {
    return { state: 'unavailable', reason: `a file changed while it was read: ${(err as Error).message}` };
  }
  const blob = join(dir, `${key}.blob`);
  const sizeFile = join(dir, `${key}.size`);
  const failed = join(dir, `${key}.failed`);
  if (existsSync(blob)) {
    let expected = -1;
    try {
      expected = Number(readFileSync(sizeFile, 'utf8'));
    } catch {
      // No sidecar: treated as corrupt.
    }
    if (statSync(blob).size === expected) return { state: 'ready', blob };
    rmSync(blob, { force: true });
    startBuild(spec, entry, dir, key);
    return { state: 'corrupt' };
  }
  if (existsSync(failed)) return { state: 'unavailable', reason: `its build failed or Node refused it (${failed})` };
  startBuild(spec, entry, dir, key);
  return { state: 'building' };
}

/**
 * Removes a blob that Node refused and marks its key failed with why: kernels then start without a
 * snapshot (reported as unavailable) until a file of the key changes, instead of building one
 * that Node would refuse again at every run.
 * @example discardSnapshot('/repo/.cache/kernel-snapshot/<key>.blob', 'exit code 1')
 */
export function discardSnapshot(blob: string, why: string): void {
  rmSync(blob, { force: true });
  rmSync(blob.replace(/\.blob$/, '.size'), { force: true });
  try {
    writeFileSync(blob.replace(/\.blob$/, '.failed'), `the kernel exited at start-up from this snapshot: ${why}\n`);
  } catch {
    // The folder is gone: nothing to mark.
  }
}

function startBuild(spec: SnapshotBuildSpec, entry: string, dir: string, key: string): void {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, `${key}.lock`);
  let fd: number;
  try {
    fd = openSync(lock, 'wx');
  } catch {
    let holder = NaN;
    try {
      holder = Number(readFileSync(lock, 'utf8'));
    } catch {
      // Being written or gone.
    }
    if (!Number.isInteger(holder) || pidAlive(holder)) return;
    rmSync(lock, { force: true });
    try {
      fd = openSync(lock, 'wx');
    } catch {
      return;
    }
  }
  // Blobs of other keys are stale (a changed file, another Node): about 60 MB each. A kernel
  // started from one has read it already.
  for (const f of readdirSync(dir)) {
    if (/^[0-9a-f]{32}\.(blob|size|failed)$/.test(f) && !f.startsWith(key)) rmSync(join(dir, f), { force: true });
  }
  const tmp = join(dir, `${key}.${process.pid}.tmp`);
  // A snapshot's entry script gets `require` (built-ins only) but no `exports`, which compiled
  // TypeScript needs: this bootstrap runs the compiled entry as a CommonJS module.
  const bootstrap = join(dir, `${key}.${process.pid}.entry.js`);
  writeFileSync(bootstrap, [
    "'use strict';",
    "const { readFileSync } = require('node:fs');",
    "const { dirname } = require('node:path');",
    "const { runInThisContext } = require('node:vm');",
    "const Module = require('node:module');",
    `const entry = ${JSON.stringify(entry)};`,
    'const m = { exports: {} };',
    "runInThisContext(Module.wrap(readFileSync(entry, 'utf8')), { filename: entry })(m.exports, require, m, entry, dirname(entry));",
    '',
  ].join('\n'));
  const blob = join(dir, `${key}.blob`);
  // The shell renames the blob into place only when Node built it, then writes its size; a failed
  // build leaves `<key>.failed` with Node's stderr so it is not retried at every start.
  const script = [
    'if "$0" --snapshot-blob "$1" --build-snapshot "$2" 2>"$3.err"; then',
    '  mv "$1" "$4" && wc -c < "$4" | tr -d " " > "$5" && rm -f "$3.err"',
    'else mv "$3.err" "$3"; rm -f "$1"; fi',
    'rm -f "$2" "$6"',
  ].join('\n');
  const child = spawn('/bin/sh', ['-c', script, process.execPath, tmp, bootstrap, join(dir, `${key}.failed`), blob, join(dir, `${key}.size`), lock], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, [SNAPSHOT_BUILD_ENV]: JSON.stringify(spec) },
  });
  try {
    writeSync(fd, String(child.pid ?? ''));
  } finally {
    closeSync(fd);
  }
  child.unref();
}

/**
 * The snapshot report of a kernel started from it; undefined when it wrote none or it cannot be read.
 * @example readSnapshotReport(join(connDir, 'snapshot.json')) // { offered: 534, reused: 167 }
 */
export function readSnapshotReport(file: string): SnapshotKernelReport | undefined {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<SnapshotKernelReport>;
    const n = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);
    return { offered: n(r.offered), reused: n(r.reused) };
  } catch {
    return undefined;
  }
}
