/**
 * A compile cache for the tslab kernels quantbook starts (`node --require dist/notebook/runner/compileCache.js
 * tslab kernel ...`, see `KernelClient.start`): a cell whose compile inputs are exactly those of an
 * earlier run gets that run's compile result instead of being type-checked and emitted again.
 *
 * Why: tslab compiles every cell through a TypeScript watch program (`converter.js` `convert`):
 * two program updates, a type check of the cell against every declaration it reaches, a declaration
 * emit and a CommonJS transpile. Measured on this project's ten notebooks (idle Xeon, 2 cores):
 * about 1 s of CPU per notebook, a fifth to a third of a short notebook's kernel, and the same on
 * every run of an unchanged notebook.
 *
 * What a result depends on, and what is checked before one is reused (any difference: compiled as
 * without the cache, counted as `stale`, the entry replaced):
 * - the cell's source and the declarations of the cells before it (tslab's `prevDecl`): the key;
 * - tslab's converter (its exact source: the cache is off for any other), TypeScript's version and
 *   file, Node's version, the kernel's folder and the program's compiler options: the key;
 * - every file of the program other than the cell (lib files, `@types`, `dist/*.d.ts`, packages'
 *   declarations): the SHA-256 of its bytes;
 * - every place TypeScript's module and type resolution looked for a file and found none
 *   (`failedLookupLocations`): still none; every `package.json` that shaped a resolution
 *   (`affectingLocations`): same bytes; the automatic type directives (the type roots' packages): same names.
 * A cell whose program holds any source file other than the cell itself (an imported local `.ts`
 * or `.js` module, tslab's in-memory modules) is compiled as without the cache and not stored
 * (`uncacheable`): tslab emits such files beside the cell, once per kernel.
 *
 * Trust: an entry is a JSON body after a header with its SHA-256; a header, checksum or body that
 * does not match is counted as `corrupt` and replaced, never used. A file's hash and a location's
 * absence are checked once per kernel (a kernel runs one notebook). The counts are written to
 * {@link CompileCacheSpec.reportFile} after every cell, for the runner to report.
 *
 * Keys, framing, worlds and run markers live in `compileStore.ts`.
 *
 * Layout of {@link CompileCacheSpec.dir}: `<first two hex digits>/<key>.json` per cell, naming its
 * world by SHA-256 in `worlds/<sha>.json` (a notebook's cells share one or a few: about 0.5 MB each,
 * mostly the failed lookup places), and `runs/<fingerprint>` per notebook run that went wholly
 * through the cache (`compileStore.ts` markCompiledRun). Past {@link MAX_ENTRIES} entries the oldest half go.
 *
 * Without {@link COMPILE_CACHE_ENV} in the environment (a kernel started by JupyterLab or nbconvert
 * from the kernelspec) loading this file does nothing; the variable is removed on start, so processes
 * a notebook starts never see it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../../core/output';
import {
  baseKeyOf, cellKey, decodeEntry, encodeEntry, isPlainJson, TSLAB_CONVERTER_SHA256, worldOf, WorldCheck,
  type CompileCacheReport, type CompileWorld, type ProgramLike,
} from './compileStore';

/**
 * Environment variable of the runner's process: `off` starts kernels without the compile cache
 * (what `--no-compile-cache` sets), unless a start asks otherwise.
 */
export const COMPILE_CACHE_SWITCH = 'QUANTBOOK_COMPILE_CACHE';

/** Environment variable carrying the {@link CompileCacheSpec} as JSON. */
export const COMPILE_CACHE_ENV = 'QUANTBOOK_KERNEL_COMPILE_CACHE';

/**
 * The text in tslab's `createConverter` that returns the converter; the cache adds, on the same
 * line, an accessor of the converter's watch program and file names (in memory only).
 */
export const CONVERTER_RETURN_ANCHOR = '    return {\n        close,\n        convert,\n';

/** Entries past this count are pruned, oldest first, down to half, when a kernel stores one. */
export const MAX_ENTRIES = 20_000;


/** What the runner tells the kernel's compile cache. */
export interface CompileCacheSpec {
  /** The cache folder (created when missing), e.g. `<package>/.cache/kernel-compile`. */
  dir: string;
  /** Where the counts ({@link CompileCacheReport}) are written after every cell; absent: nowhere. */
  reportFile?: string;
}

/** What the patched converter exposes (`__quantbookState`). */
interface ConverterState {
  builder: { getProgram(): ProgramLike };
  srcFilename: string;
  declFilename: string;
  rootFiles: Set<string>;
}
interface TsLike {
  version: string;
  /** The host whose directories `getAutomaticTypeDirectiveNames` lists (TypeScript's own `sys`). */
  sys: unknown;
  getAutomaticTypeDirectiveNames(options: unknown, host: unknown): string[];
}
type Convert = (prevDecl: string, src: string) => unknown;
interface ConverterLike {
  convert: Convert;
  __quantbookState?: () => ConverterState;
}

/** A stored compile: the converter's result and the SHA-256 of the world it depended on (`worlds/<sha>.json`). */
interface Entry {
  result: object;
  world: string;
}

function isEntry(v: unknown): v is Entry {
  const e = v as Partial<Entry> | null;
  return typeof e === 'object' && e !== null && typeof e.result === 'object' && e.result !== null && typeof e.world === 'string' && /^[0-9a-f]{64}$/.test(e.world);
}

function isWorld(v: unknown): v is CompileWorld {
  const w = v as Partial<CompileWorld> | null;
  return typeof w === 'object' && w !== null && Array.isArray(w.files) && Array.isArray(w.missing) && Array.isArray(w.typeDirectives);
}

/** Where an entry lives: `<dir>/<first two hex digits>/<key>.json`; a world: `<dir>/worlds/<sha>.json`. */
function entryPath(dir: string, key: string): string {
  return join(dir, key.slice(0, 2), `${key}.json`);
}
function worldPath(dir: string, sha: string): string {
  return join(dir, 'worlds', `${sha}.json`);
}

/**
 * Once there are more than {@link MAX_ENTRIES} entries: removes the oldest (by mtime) down to half,
 * then every world no kept entry names, and the run markers (`compileStore.ts` markCompiledRun).
 */
function prune(dir: string): void {
  const all: Array<{ path: string; mtime: number }> = [];
  for (const sub of readdirSync(dir)) {
    if (!/^[0-9a-f]{2}$/.test(sub)) continue;
    for (const f of readdirSync(join(dir, sub))) {
      const path = join(dir, sub, f);
      try {
        all.push({ path, mtime: statSync(path).mtimeMs });
      } catch {
        // Removed by another kernel meanwhile.
      }
    }
  }
  if (all.length <= MAX_ENTRIES) return;
  all.sort((a, b) => a.mtime - b.mtime);
  const cut = all.length - (MAX_ENTRIES >> 1);
  for (const e of all.slice(0, cut)) rmSync(e.path, { force: true });
  const named = new Set<string>();
  for (const e of all.slice(cut)) {
    try {
      const body = JSON.parse(readFileSync(e.path, 'utf8').split('\n').slice(3).join('\n')) as Partial<Entry>;
      if (typeof body.world === 'string') named.add(`${body.world}.json`);
    } catch {
      // Unreadable: a later read counts it corrupt.
    }
  }
  for (const f of readdirSync(join(dir, 'worlds'))) if (!named.has(f)) rmSync(join(dir, 'worlds', f), { force: true });
  // Run markers promise entries that may be gone now: the next runs warm their kernels up again.
  rmSync(join(dir, 'runs'), { recursive: true, force: true });
}

/**
 * Wraps a tslab converter's `convert` with the cache (see the file comment).
 * @param converter - a converter made by tslab's `createConverter` with the `__quantbookState` accessor.
 * @example withCompileCache(converter, ts, { dir: '.cache/kernel-compile' }, report, { isJS: false, typescript: '...' })
 */
export function withCompileCache(
  converter: ConverterLike, ts: TsLike, spec: CompileCacheSpec, report: CompileCacheReport, ident: { isJS: boolean; typescript: string },
): void {
  const state = converter.__quantbookState;
  if (state === undefined) {
    report.off = 'the converter has no state accessor';
    return;
  }
  const convert = converter.convert;
  let base: string | undefined;
  let stores = 0;
  const check = new WorldCheck(() => {
    const program = state().builder.getProgram();
    return ts.getAutomaticTypeDirectiveNames(program.getCompilerOptions(), ts.sys);
  });
  // Worlds read (or written) by this kernel, by SHA-256: whether they hold; a world is checked once.
  const worlds = new Map<string, boolean>();
  const worldHolds = (sha: string): boolean | 'corrupt' => {
    let holds = worlds.get(sha);
    if (holds === undefined) {
      let text: string;
      try {
        text = readFileSync(worldPath(spec.dir, sha), 'utf8');
      } catch {
        return 'corrupt';
      }
      const read = decodeEntry(text, sha);
      if (!read.ok || !isWorld(read.body)) return 'corrupt';
      holds = check.holds(read.body);
      worlds.set(sha, holds);
    }
    return holds;
  };
  const write = (): void => {
    if (!spec.reportFile) return;
    try {
      writeFileSync(spec.reportFile, JSON.stringify(report));
    } catch {
      // The connection folder is gone: the runner has gone too.
    }
  };
  converter.convert = (prevDecl: string, src: string): unknown => {
    if (report.off !== undefined) return convert(prevDecl, src);
    let key: string;
    let s: ConverterState;
    // Why the cell is compiled: counted once it is known whether it can be stored.
    let outcome: 'misses' | 'stale' | 'corrupt' = 'misses';
    try {
      s = state();
      if (s.rootFiles.size !== 2) {
        // tslab's in-memory modules (`addModule`) are roots of the program beside the cell.
        report.uncacheable++;
        write();
        return convert(prevDecl, src);
      }
      const options = s.builder.getProgram().getCompilerOptions();
      base ??= baseKeyOf({ typescript: ident.typescript, node: process.version, cwd: process.cwd(), options, isJS: ident.isJS });
      key = cellKey(base, prevDecl, src);
      let text: string | undefined;
      try {
        text = readFileSync(entryPath(spec.dir, key), 'utf8');
      } catch {
        // No entry yet.
      }
      if (text !== undefined) {
        const read = decodeEntry(text, key);
        const holds = read.ok && isEntry(read.body) ? worldHolds(read.body.world) : 'corrupt';
        if (holds === true && read.ok) {
          report.hits++;
          write();
          return (read.body as Entry).result;
        }
        outcome = holds === 'corrupt' ? 'corrupt' : 'stale';
      }
    } catch (err) {
      report.off = `the compile cache failed: ${(err as Error).message.split('\n')[0]}`;
      write();
      return convert(prevDecl, src);
    }
    const result = convert(prevDecl, src);
    const counted = report.misses + report.stale + report.corrupt + report.uncacheable;
    try {
      // The cell's own program: tslab replaces its builder at every update, so read it again.
      const after = state();
      const world = worldOf(after.builder.getProgram(), [after.srcFilename, after.declFilename], check);
      // An uncacheable cell with no entry is only uncacheable; a stale or corrupt entry is counted as such too.
      if (world !== 'uncacheable' && isPlainJson(result)) report[outcome]++;
      else {
        report.uncacheable++;
        if (outcome !== 'misses') report[outcome]++;
      }
      // A file that changed while the cell compiled: its compile is not stored.
      if (world === 'changed') report.unwritten++;
      if (world !== 'uncacheable' && world !== 'changed' && isPlainJson(result)) {
        const worldJson = JSON.stringify(world);
        const sha = createHash('sha256').update(worldJson).digest('hex');
        if (!worlds.has(sha) || !existsSync(worldPath(spec.dir, sha))) writeFileAtomic(worldPath(spec.dir, sha), encodeEntry(sha, world));
        worlds.set(sha, true);
        writeFileAtomic(entryPath(spec.dir, key), encodeEntry(key, { result: result as object, world: sha } satisfies Entry));
        if (++stores === 1) prune(spec.dir);
      }
    } catch {
      // The cell ran as compiled; only the next run compiles it again.
      report.unwritten++;
      if (report.misses + report.stale + report.corrupt + report.uncacheable === counted) report[outcome]++;
    }
    write();
    return result;
  };
}


/**
 * Puts the state accessor into tslab's converter source (same line, so its line numbers stay).
 * @throws Error when the source has not exactly one {@link CONVERTER_RETURN_ANCHOR}.
 * @example withStateAccessor(source).includes('__quantbookState') // true
 */
export function withStateAccessor(source: string): string {
  const at = source.indexOf(CONVERTER_RETURN_ANCHOR);
  if (at < 0 || source.indexOf(CONVERTER_RETURN_ANCHOR, at + 1) >= 0) throw new Error("tslab's converter has no single return of the expected form");
  const open = '    return {';
  return `${source.slice(0, at)}${open} __quantbookState: () => ({ builder, srcFilename, declFilename, rootFiles }),${source.slice(at + open.length)}`;
}

interface CompilableModule {
  exports: unknown;
  require: (id: string) => unknown;
  _compile: (content: string, filename: string) => unknown;
}

/**
 * Installs the cache into this kernel (see the file comment): the next load of tslab's converter
 * gets the state accessor and its node converters the cache.
 */
function installCompileCache(spec: CompileCacheSpec): void {
  const report: CompileCacheReport = { hits: 0, misses: 0, stale: 0, corrupt: 0, uncacheable: 0, unwritten: 0 };
  const fail = (why: string): void => {
    report.off = why;
    if (spec.reportFile) {
      try {
        writeFileSync(spec.reportFile, JSON.stringify(report));
      } catch {
        // Nowhere to say it.
      }
    }
  };
  const main = process.argv[1];
  // Another Node kernel (not tslab) has nothing to cache: it says nothing.
  if (main === undefined || basename(main) !== 'tslab') return;
  let converterFile: string;
  try {
    converterFile = join(dirname(dirname(realpathSync(main))), 'dist', 'converter.js');
  } catch {
    fail(`tslab's script ${main} cannot be found`);
    return;
  }
  const M = Module as unknown as { prototype: CompilableModule };
  const compile = M.prototype._compile;
  M.prototype._compile = function compileWithCache(this: CompilableModule, content: string, filename: string): unknown {
    if (filename !== converterFile) return compile.call(this, content, filename);
    M.prototype._compile = compile;
    // Never in the kernel's way: any failure here compiles tslab's converter as it is, saying why.
    let patched: string;
    try {
      if (createHash('sha256').update(content).digest('hex') !== TSLAB_CONVERTER_SHA256) throw new Error(`tslab's converter (${filename}) is not tslab 1.0.22's`);
      patched = withStateAccessor(content);
    } catch (err) {
      fail((err as Error).message);
      return compile.call(this, content, filename);
    }
    const out = compile.call(this, patched, filename);
    try {
      wrapCreateConverter(this, filename, spec, report);
    } catch (err) {
      fail(`the compile cache failed: ${(err as Error).message.split('\n')[0]}`);
    }
    return out;
  };
}

/** Gives the node converters that tslab's converter module creates from now on the cache. */
function wrapCreateConverter(mod: CompilableModule, filename: string, spec: CompileCacheSpec, report: CompileCacheReport): void {
  const converterModule = mod.exports as { createConverter: (options?: { isJS?: boolean; isBrowser?: boolean }) => ConverterLike };
  const ts = mod.require('@tslab/typescript-for-tslab') as TsLike;
  let tsIdent = ts.version;
  try {
    const tsFile = createRequire(filename).resolve('@tslab/typescript-for-tslab');
    const st = statSync(tsFile);
    tsIdent = `${tsFile} ${ts.version} ${st.size} ${st.mtimeMs}`;
  } catch {
    // Keyed on the version alone.
  }
  const create = converterModule.createConverter;
  converterModule.createConverter = (options) => {
    const converter = create(options);
    // The browser converter (tslab's `%browser` cells) compiles for another lib: left as it is.
    if (!options?.isBrowser) withCompileCache(converter, ts, spec, report, { isJS: options?.isJS === true, typescript: tsIdent });
    return converter;
  };
}

if (process.env[COMPILE_CACHE_ENV]) {
  const spec = JSON.parse(process.env[COMPILE_CACHE_ENV]) as CompileCacheSpec;
  delete process.env[COMPILE_CACHE_ENV];
  installCompileCache(spec);
}
