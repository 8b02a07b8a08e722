/**
 * The compile cache's store (`compileCache.ts` wraps tslab with it): the keys of a cell's compile,
 * the framing of stored files (a header with the body's SHA-256), the world a compile depended on
 * and its check against the file system, and the markers of notebook runs that went wholly
 * through the cache. Node's built-ins and the project's atomic writer only: it loads into kernels.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/output';

/** SHA-256 of tslab 1.0.22's `dist/converter.js`, the converter this cache was written and checked against. */
export const TSLAB_CONVERTER_SHA256 = '2c671708872c2ad7c36db9f703e5917571e73a62c4cf67f5abad0bd02c56b832';

/** The format mark of every key and framed file (a new format changes it, and with it every key). */
export const MAGIC = 'qbtc1';

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
export interface ProgramLike {
  getSourceFiles(): readonly SourceFileLike[];
  getCompilerOptions(): unknown;
  getResolvedTypeReferenceDirectives(): ModeAwareCache;
  getAutomaticTypeDirectiveNames(): readonly string[];
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
    if (complete) writeFileAtomic(markerPath(dir, fingerprint), JSON.stringify(report));
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
