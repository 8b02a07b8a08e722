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
 * Layout of {@link CompileCacheSpec.dir}: `<first two hex digits>/<key>.json` per cell, naming its
 * world by SHA-256 in `worlds/<sha>.json` (a notebook's cells share one or a few: about 0.5 MB each,
 * mostly the failed lookup places), and `runs/<fingerprint>` per notebook run that went wholly
 * through the cache ({@link markCompiledRun}). Past {@link MAX_ENTRIES} entries the oldest half go.
 *
 * Without {@link COMPILE_CACHE_ENV} in the environment (a kernel started by JupyterLab or nbconvert
 * from the kernelspec) loading this file does nothing; the variable is removed on start, so processes
 * a notebook starts never see it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';

/**
 * Environment variable of the runner's process: `off` starts kernels without the compile cache
 * (what `--no-compile-cache` sets), unless a start asks otherwise.
 */
export const COMPILE_CACHE_SWITCH = 'QUANTBOOK_COMPILE_CACHE';

/** Environment variable carrying the {@link CompileCacheSpec} as JSON. */
export const COMPILE_CACHE_ENV = 'QUANTBOOK_KERNEL_COMPILE_CACHE';

/** SHA-256 of tslab 1.0.22's `dist/converter.js`, the converter this cache was written and checked against. */
export const TSLAB_CONVERTER_SHA256 = '2c671708872c2ad7c36db9f703e5917571e73a62c4cf67f5abad0bd02c56b832';

/**
 * The text in tslab's `createConverter` that returns the converter; the cache adds, on the same
 * line, an accessor of the converter's watch program and file names (in memory only).
 */
export const CONVERTER_RETURN_ANCHOR = '    return {\n        close,\n        convert,\n';

/** Entries past this count are pruned, oldest first, down to half, when a kernel stores one. */
export const MAX_ENTRIES = 20_000;

const MAGIC = 'qbtc1';

/** What the runner tells the kernel's compile cache. */
export interface CompileCacheSpec {
  /** The cache folder (created when missing), e.g. `<package>/.cache/kernel-compile`. */
  dir: string;
  /** Where the counts ({@link CompileCacheReport}) are written after every cell; absent: nowhere. */
  reportFile?: string;
}

/** What a kernel's compile cache did with its cells. */
export interface CompileCacheReport {
  /** Cells compiled from the cache (inputs and the program's files unchanged). */
  hits: number;
  /** Cells with no entry yet: compiled, then stored. */
  misses: number;
  /** Cells whose entry no longer held (a file of its program or a resolution changed): compiled, replaced. */
  stale: number;
  /** Entries whose header, checksum or body failed: compiled, replaced. */
  corrupt: number;
  /** Cells compiled without the cache because their program holds other source files (see the file comment). */
  uncacheable: number;
  /**
   * Compiled cells whose entry was not stored: it could not be written (a full disk, a read-only
   * folder), or a file of its program changed while it compiled. The next run compiles them again.
   */
  unwritten: number;
  /** When the cache is off in this kernel: why (another tslab, an error of the cache itself). */
  off?: string;
}

/** What a stored compile depended on besides its key (see the file comment). */
export interface CompileWorld {
  /** [path, SHA-256 of the file's bytes] of every program file other than the cell's. */
  files: Array<[string, string]>;
  /** Places resolution looked for a file and found none. */
  missing: string[];
  /** The program's automatic type directive names (the type roots' packages), in its order. */
  typeDirectives: string[];
}

/**
 * The key of a cell's compile: its source, the declarations before it, and the converter's base
 * key (tslab, TypeScript, Node, folder, compiler options: {@link baseKeyOf}).
 * @example cellKey('b', '', 'const x = 1;') // 64 hex digits
 */
export function cellKey(base: string, prevDecl: string, src: string): string {
  return createHash('sha256').update(`${base}\0${prevDecl.length}\0${prevDecl}\0${src}`).digest('hex');
}

/**
 * The converter's part of every key: the converter's and TypeScript's identity, Node's version,
 * the kernel's folder and the program's compiler options (JSON, in the program's order).
 * @example baseKeyOf({ typescript: '/ts.js 5.0.4 9000000 1', node: 'v20.0.0', cwd: '/nb', options: { target: 9 }, isJS: false })
 */
export function baseKeyOf(parts: { typescript: string; node: string; cwd: string; options: unknown; isJS: boolean }): string {
  return createHash('sha256').update(JSON.stringify([MAGIC, TSLAB_CONVERTER_SHA256, parts.typescript, parts.node, parts.cwd, parts.isJS, parts.options])).digest('hex');
}

/**
 * Frames an entry: a header naming the key and the body's SHA-256, then the JSON body.
 * @example decodeEntry(encodeEntry('k', { a: 1 }), 'k') // { ok: true, body: { a: 1 } }
 */
export function encodeEntry(key: string, body: unknown): string {
  const json = JSON.stringify(body);
  return `${MAGIC}\n${key}\n${createHash('sha256').update(json).digest('hex')}\n${json}`;
}

/**
 * Reads a framed entry back: the body when the header names `key` and the checksum matches,
 * else `ok: false` (corrupt, truncated, or another key's).
 */
export function decodeEntry(text: string, key: string): { ok: true; body: unknown } | { ok: false } {
  const parts = text.split('\n', 3);
  if (parts.length < 3 || parts[0] !== MAGIC || parts[1] !== key) return { ok: false };
  const json = text.slice(parts[0].length + parts[1].length + parts[2].length + 3);
  if (createHash('sha256').update(json).digest('hex') !== parts[2]) return { ok: false };
  try {
    return { ok: true, body: JSON.parse(json) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * Whether a value survives JSON unchanged (strings, finite numbers, booleans, null, arrays and plain
 * objects; properties whose value is undefined are dropped, which tslab's readers treat alike).
 * @example isPlainJson({ a: [1, 'x'], b: undefined }) // true
 */
export function isPlainJson(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => x !== undefined && isPlainJson(x));
  if (typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(v as Record<string, unknown>).every((x) => x === undefined || isPlainJson(x));
}

/**
 * A file's text as TypeScript's `sys.readFile` decodes its bytes: UTF-8 (a BOM dropped) or UTF-16LE
 * after its BOM; undefined for UTF-16BE (not mirrored here: such a file is never stored).
 * @example decodeLikeTypeScript(Buffer.from([0xef, 0xbb, 0xbf, 0x61])) // 'a'
 */
export function decodeLikeTypeScript(bytes: Buffer): string | undefined {
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return undefined;
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.toString('utf16le', 2);
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.toString('utf8', 3);
  return bytes.toString('utf8');
}

/** Checks a world against the file system, remembering what held (files and absences are checked once per process). */
export class WorldCheck {
  /** Per path: the SHA-256 of the bytes read, their text until compared, then the text that matched (null: unreadable). */
  private readonly files = new Map<string, { hash: string; text: string | undefined; matched: string | undefined } | null>();
  private readonly absent = new Set<string>();
  private typeDirectives: string | undefined;

  /** @param currentTypeDirectives - the type roots' packages now (TypeScript's `getAutomaticTypeDirectiveNames`). */
  constructor(private readonly currentTypeDirectives: () => string[]) {}

  private read(path: string): { hash: string; text: string | undefined; matched: string | undefined } | null {
    let f = this.files.get(path);
    if (f === undefined) {
      try {
        const bytes = readFileSync(path);
        f = { hash: createHash('sha256').update(bytes).digest('hex'), text: decodeLikeTypeScript(bytes), matched: undefined };
      } catch {
        f = null;
      }
      this.files.set(path, f);
    }
    return f;
  }

  /** SHA-256 of a file's bytes (null when it cannot be read), read once per path. */
  hashOf(path: string): string | null {
    return this.read(path)?.hash ?? null;
  }

  /**
   * The SHA-256 of a file's bytes when they decode to `text` (what TypeScript parsed), else null:
   * the hash and the comparison come from one read, so a file written meanwhile is never recorded
   * with a hash of other bytes than those compared.
   * @example check.hashIfText('/a.d.ts', sourceFile.text) // '9f86...' or null
   */
  hashIfText(path: string, text: string): string | null {
    const f = this.read(path);
    if (f === null) return null;
    if (f.matched === undefined) {
      if (f.text !== text) return null;
      // Compared once: the decoded copy is dropped, TypeScript's own string is kept to compare later texts with.
      f.matched = text;
      f.text = undefined;
    }
    return f.matched === text ? f.hash : null;
  }

  /**
   * Whether every file still has its bytes, every missing place is still missing and the type
   * directives are the same.
   * @example new WorldCheck(() => []).holds({ files: [], missing: ['/nope'], typeDirectives: [] }) // true
   */
  holds(world: CompileWorld): boolean {
    for (const [path, hash] of world.files) if (this.hashOf(path) !== hash) return false;
    for (const p of world.missing) {
      if (this.absent.has(p)) continue;
      if (existsSync(p)) return false;
      this.absent.add(p);
    }
    this.typeDirectives ??= JSON.stringify(this.currentTypeDirectives());
    return JSON.stringify(world.typeDirectives) === this.typeDirectives;
  }
}

/** A resolution as TypeScript 5.0 stores it on a source file or the program. */
interface Resolution {
  failedLookupLocations?: readonly string[];
  affectingLocations?: readonly string[];
}
interface ModeAwareCache {
  forEach(cb: (value: Resolution) => void): void;
}
interface SourceFileLike {
  fileName: string;
  text: string;
  isDeclarationFile: boolean;
  resolvedModules?: ModeAwareCache;
  resolvedTypeReferenceDirectiveNames?: ModeAwareCache;
}
interface ProgramLike {
  getSourceFiles(): readonly SourceFileLike[];
  getCompilerOptions(): unknown;
  getResolvedTypeReferenceDirectives(): ModeAwareCache;
  getAutomaticTypeDirectiveNames(): readonly string[];
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

/**
 * What a program's compile depended on besides the cell: its other files (hashed, each checked to
 * decode to the text TypeScript parsed), the places resolution found nothing, the package.json files that
 * shaped resolutions, and the automatic type directives.
 * @returns the world, or why the cell is not stored (`uncacheable`: other source files; `changed`: a
 *   file differs from the text TypeScript read).
 */
export function worldOf(program: ProgramLike, cell: readonly string[], check: WorldCheck): CompileWorld | 'uncacheable' | 'changed' {
  const files: Array<[string, string]> = [];
  const missing = new Set<string>();
  const affecting = new Set<string>();
  const note = (r: Resolution): void => {
    for (const p of r.failedLookupLocations ?? []) missing.add(p);
    for (const p of r.affectingLocations ?? []) affecting.add(p);
  };
  for (const sf of program.getSourceFiles()) {
    sf.resolvedModules?.forEach(note);
    sf.resolvedTypeReferenceDirectiveNames?.forEach(note);
    if (cell.includes(sf.fileName)) continue;
    if (!sf.isDeclarationFile) return 'uncacheable';
    const h = check.hashIfText(sf.fileName, sf.text);
    if (h === null) return 'changed';
    files.push([sf.fileName, h]);
  }
  program.getResolvedTypeReferenceDirectives().forEach(note);
  for (const p of affecting) {
    const h = check.hashOf(p);
    if (h === null) return 'changed';
    files.push([p, h]);
  }
  return { files, missing: [...missing].sort(), typeDirectives: [...program.getAutomaticTypeDirectiveNames()] };
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

/** Writes a file through a temporary name, so a reader never sees half of it. */
function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Once there are more than {@link MAX_ENTRIES} entries: removes the oldest (by mtime) down to half,
 * then every world no kept entry names, and the run markers ({@link markCompiledRun}).
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
        if (!worlds.has(sha) || !existsSync(worldPath(spec.dir, sha))) writeAtomic(worldPath(spec.dir, sha), encodeEntry(sha, world));
        worlds.set(sha, true);
        writeAtomic(entryPath(spec.dir, key), encodeEntry(key, { result: result as object, world: sha } satisfies Entry));
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
 * The fingerprint of a notebook run's cells: its folder, its parameters and the source of every code
 * cell of the notebook file, in order (a marker of the last run is named by it, see {@link markCompiledRun}).
 * @example runFingerprint('/nb', { horizon: 30 }, ['const a = 1;']) // 64 hex digits
 */
export function runFingerprint(cwd: string, parameters: unknown, sources: readonly string[]): string {
  const h = createHash('sha256').update(JSON.stringify([MAGIC, cwd, parameters ?? {}, sources.length]));
  for (const src of sources) h.update(`\0${src.length}\0${src}`);
  return h.digest('hex');
}

function markerPath(dir: string, fingerprint: string): string {
  return join(dir, 'runs', fingerprint);
}

/**
 * After a run: marks that every cell of these cells' run went through the compile cache (from it or
 * stored into it), so the next run of the same cells will likely compile none, or removes the mark.
 * `KernelPool` then skips the warm-up of a kernel started ahead for them (it would parse
 * declarations that no cell compiles). Best effort: a marker that cannot be written changes only that.
 * @example markCompiledRun('.cache/kernel-compile', fp, report, 8)
 */
export function markCompiledRun(dir: string, fingerprint: string, report: CompileCacheReport | undefined, codeCells: number): void {
  const complete = report !== undefined && report.off === undefined && report.uncacheable === 0 && report.unwritten === 0
    && report.hits + report.misses + report.stale + report.corrupt === codeCells;
  try {
    if (complete) writeAtomic(markerPath(dir, fingerprint), JSON.stringify(report));
    else rmSync(markerPath(dir, fingerprint), { force: true });
  } catch {
    // Only the next run's warm-up depends on it.
  }
}

/**
 * Whether the last run of these cells went wholly through the compile cache ({@link markCompiledRun}).
 * @example compiledBefore('.cache/kernel-compile', fp) // true after a complete run
 */
export function compiledBefore(dir: string, fingerprint: string): boolean {
  return existsSync(markerPath(dir, fingerprint));
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
