/**
 * A V8 code cache for the kernel's big modules, preloaded into kernels that quantbook starts
 * (`node --require dist/notebook/runner/codeCache.js tslab kernel ...`, see `KernelClient.start`).
 * tslab loads TypeScript (`typescript.js`, about 9 MB) at every start; Node 20 has no
 * `NODE_COMPILE_CACHE`, so each fresh kernel parses and compiles it again, and compiles lazily
 * the functions its program creation and first cells run. Here a CommonJS module of at least
 * {@link MIN_CACHED_BYTES} is compiled through `vm.Script` with the cached data of an earlier
 * kernel; a kernel that found none (or an unusable one) writes it when it exits, after its cells
 * ran, so the cache also holds the functions compiled lazily on the way.
 *
 * Trust: a cache file is named by a hash of the module's path, size and mtime, the Node version,
 * architecture and the kernel's V8 flags, and it carries its own SHA-256: a file whose checksum
 * or header does not match is counted as corrupt and replaced; cached data that V8 refuses
 * (another V8, other flags, another source) is counted as rejected and replaced. Either way the
 * module is compiled from source as without a cache, never run from data that failed a check.
 * The counts are written to {@link CodeCacheSpec.reportFile} at load, for the runner to report.
 *
 * Without {@link CODE_CACHE_ENV} in the environment (a kernel started by JupyterLab from the
 * kernelspec) loading this file does nothing; the variable is removed on start, so processes a
 * notebook starts never see it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** Environment variable carrying the {@link CodeCacheSpec} as JSON. */
export const CODE_CACHE_ENV = 'QUANTBOOK_KERNEL_CODE_CACHE';

/** Modules at least this large (characters of source) are cached: typescript.js; not the many small ones. */
export const MIN_CACHED_BYTES = 1 << 20;

/** What the runner tells the kernel's code cache. */
export interface CodeCacheSpec {
  /** The cache folder (created when missing), e.g. `<package>/.cache/kernel-code`. */
  dir: string;
  /** Where the counts ({@link CodeCacheReport}) are written once the preload has run; absent: nowhere. */
  reportFile?: string;
}

/** What a kernel's code cache did with its big modules. */
export interface CodeCacheReport {
  /** Modules compiled with cached data V8 accepted. */
  hits: number;
  /** Modules without a cache file yet (written when the kernel exits). */
  misses: number;
  /** Cache files whose checksum or header failed: compiled from source, replaced. */
  corrupt: number;
  /** Cached data V8 refused: compiled from source, replaced. */
  rejected: number;
}

const MAGIC = 'qbcc1';

/**
 * The cache file of a module: its path, size and mtime, this Node and V8 and the process's V8
 * flags name it, so a changed module or runtime never meets an old entry.
 * @example cacheFileFor('/c', '/nm/typescript.js', { size: 9e6, mtimeMs: 1 }) // '/c/<32 hex>.bin'
 */
export function cacheFileFor(dir: string, filename: string, stat: { size: number; mtimeMs: number }): string {
  const key = [filename, stat.size, stat.mtimeMs, process.version, process.versions.v8, process.arch, process.execArgv.join(' ')].join('\0');
  return join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.bin`);
}

/**
 * Frames cached data with a header naming the module and the data's SHA-256.
 * @example readCacheFile(encodeCacheFile('/a.js', data), '/a.js') // { ok: true, data }
 */
export function encodeCacheFile(filename: string, data: Buffer): Buffer {
  const header = Buffer.from(`${MAGIC}\n${filename}\n${createHash('sha256').update(data).digest('hex')}\n`);
  return Buffer.concat([header, data]);
}

/**
 * Reads a framed cache file back: the data when its header names `filename` and its checksum
 * matches, else `ok: false` (corrupt, truncated, or another module's).
 */
export function readCacheFile(bytes: Buffer, filename: string): { ok: true; data: Buffer } | { ok: false } {
  let at = 0;
  const fields: string[] = [];
  for (let i = 0; i < 3; i++) {
    const nl = bytes.indexOf(0x0a, at);
    if (nl < 0 || nl - at > 8192) return { ok: false };
    fields.push(bytes.subarray(at, nl).toString('utf8'));
    at = nl + 1;
  }
  const data = bytes.subarray(at);
  if (fields[0] !== MAGIC || fields[1] !== filename || createHash('sha256').update(data).digest('hex') !== fields[2]) return { ok: false };
  return { ok: true, data };
}

interface CompilableModule {
  exports: unknown;
  require: (id: string) => unknown;
  _compile: (content: string, filename: string) => unknown;
}

interface ModuleInternals {
  prototype: CompilableModule;
  wrap: (source: string) => string;
  _resolveFilename: (request: string, parent: CompilableModule, isMain: boolean, options?: { paths?: string[] }) => string;
  _extensions: unknown;
  _cache: unknown;
}

/**
 * Installs the cache into this process's CommonJS loader (see the file comment).
 * @returns the counts so far (updated as modules load) and the files to write at exit.
 */
function installCodeCache(spec: CodeCacheSpec): CodeCacheReport {
  const report: CodeCacheReport = { hits: 0, misses: 0, corrupt: 0, rejected: 0 };
  const toWrite: Array<{ script: Script; file: string; filename: string }> = [];
  const M = Module as unknown as ModuleInternals;
  const compile = M.prototype._compile;
  M.prototype._compile = function cachedCompile(this: CompilableModule, content: string, filename: string): unknown {
    if (content.length < MIN_CACHED_BYTES) return compile.call(this, content, filename);
    const file = cacheFileFor(spec.dir, filename, statSync(filename));
    let cachedData: Buffer | undefined;
    let bytes: Buffer | undefined;
    try {
      bytes = readFileSync(file);
    } catch {
      report.misses++;
    }
    if (bytes) {
      const read = readCacheFile(bytes, filename);
      if (read.ok) cachedData = read.data;
      else report.corrupt++;
    }
    const script = new Script(M.wrap(content), { filename, cachedData });
    if (cachedData && script.cachedDataRejected) report.rejected++;
    else if (cachedData) report.hits++;
    if (!cachedData || script.cachedDataRejected) toWrite.push({ script, file, filename });
    const fn = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    // The `require` Node gives a module, for modules that take no other loader feature.
    const mod = this;
    const moduleRequire = Object.assign((id: string) => mod.require(id), {
      resolve: (request: string, options?: { paths?: string[] }) => M._resolveFilename(request, mod, false, options),
      main: require.main,
      extensions: M._extensions,
      cache: M._cache,
    });
    return fn.call(mod.exports, mod.exports, moduleRequire, mod, filename, dirname(filename));
  };
  process.once('exit', () => {
    for (const { script, file, filename } of toWrite) {
      // Best effort: a cache that cannot be written only means the next kernel compiles again.
      try {
        mkdirSync(spec.dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, encodeCacheFile(filename, script.createCachedData()));
        renameSync(tmp, file);
      } catch {
        rmSync(`${file}.${process.pid}.tmp`, { force: true });
      }
    }
  });
  return report;
}

if (process.env[CODE_CACHE_ENV]) {
  const spec = JSON.parse(process.env[CODE_CACHE_ENV]) as CodeCacheSpec;
  delete process.env[CODE_CACHE_ENV];
  const report = installCodeCache(spec);
  if (spec.reportFile) {
    // The runner reads this once the kernel answers; the big module loads before that (tslab's start).
    const reportFile = spec.reportFile;
    setImmediate(() => {
      try {
        writeFileSync(reportFile, JSON.stringify(report));
      } catch {
        // The connection folder is gone: the runner has gone too.
      }
    });
  }
}
