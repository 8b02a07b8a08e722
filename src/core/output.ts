/**
 * Output files, one set of rules for every writer (reports, JSON, CSV, Parquet/IPC, PNG, configs):
 *
 * - A name built from user text (`--name`, a symbol, a forecaster, a notebook's file name) stays
 *   inside its output folder ({@link safeOutputName}, {@link safeOutputPath}); one that would
 *   leave it is a `ConfigError` naming the flag.
 * - A file is written to a temporary file in the same folder, `.<name>.<pid>.<random>.tmp`,
 *   flushed to disk (fsync) and renamed over the target; rename is atomic within a file system,
 *   so a reader sees the old file or the new one, never half of one. A write that fails removes
 *   its temporary file and leaves the previous file as it was ({@link writeFileAtomic}).
 * - A command that writes several files stages them in one {@link OutputBatch}: every temporary
 *   file is written first, the renames follow, so a failure while writing (full disk, a throw
 *   midway) leaves no new file beside an old one of the same run.
 * - An output folder or file is checked before any work starts ({@link checkOutputDir},
 *   {@link checkOutputFile}): a read-only file system, a file where a folder is needed, a folder
 *   where a file is needed, or no permission is one `ConfigError` line.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, OutputError } from './errors';
import { fsProblem } from './fs';

/** The longest file name most Linux file systems take (NAME_MAX), in bytes. */
const NAME_MAX = 255;

/** Why `name` is not a bare file name, or undefined when it is one. */
function nameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'it is empty';
  if (name.includes('\0')) return 'it contains a NUL byte';
  if (isAbsolute(name)) return 'it is an absolute path';
  if (/[/\\]/.test(name)) return 'it contains a path separator ("/" or "\\")';
  if (name === '.' || name === '..') return `it is "${name}"`;
  if (/[\x01-\x1f\x7f]/.test(name)) return 'it contains a control character';
  if (Buffer.byteLength(name) > NAME_MAX) return `it is longer than ${NAME_MAX} bytes`;
  return undefined;
}

/**
 * Checks that `name` is a bare file name (no `/` or `\`, not `.` or `..`, not absolute, no NUL or
 * control character, at most 255 bytes) and returns it.
 * @param flag - The flag or key the name came from, named in the error (`--name`).
 * @throws ConfigError naming `flag` and the value when it is not.
 * @example safeOutputName('01-data', '--name') // '01-data'; safeOutputName('../x', '--name') throws
 */
export function safeOutputName(name: string, flag: string): string {
  const problem = nameProblem(name);
  if (problem) throw new ConfigError(`${flag} must be a bare file name that stays inside the output folder: ${problem}`, { key: flag, value: name });
  return name;
}

/**
 * The path of output `prefix + name + suffix` inside `outDir`, refusing any name that would leave it.
 * Both `name` alone and the whole file name must be bare file names ({@link safeOutputName}).
 * @param flag - The flag or key `name` came from, named in the error.
 * @throws ConfigError naming `flag` and `name` when the file would not be a direct child of `outDir`.
 * @example
 * safeOutputPath('reports', '01-data', '--name', { suffix: '.html' }) // 'reports/01-data.html'
 * safeOutputPath('reports', '../notebooks/01-data', '--name') // throws ConfigError (key "--name", value "../notebooks/01-data")
 */
export function safeOutputPath(outDir: string, name: string, flag: string, affixes: { prefix?: string; suffix?: string } = {}): string {
  safeOutputName(name, flag);
  const file = `${affixes.prefix ?? ''}${name}${affixes.suffix ?? ''}`;
  const problem = nameProblem(file);
  if (problem) throw new ConfigError(`${flag} gives the output file name ${JSON.stringify(file)}, which is not a bare file name: ${problem}`, { key: flag, value: name });
  const path = join(outDir, file);
  // The checks above make this hold; kept as the rule itself, should they ever change.
  if (resolve(dirname(path)) !== resolve(outDir)) throw new ConfigError(`${flag} would write outside the output folder ${outDir}`, { key: flag, value: name });
  return path;
}

/**
 * Fault injection for tests only (not exported from any index): `beforeWrite` runs before each
 * chunk of `chunkBytes` (default 1 MiB) is written to a temporary file and may throw, as a full
 * disk or an interrupted write would. Tests set and reset it; nothing else does.
 */
export const outputFaults: {
  chunkBytes?: number;
  beforeWrite?: (write: { path: string; tmp: string; offset: number; bytes: number }) => void;
} = {};

// Temporary files not yet renamed or removed: removed when the process exits (process.exit from a
// SIGINT/SIGTERM handler included). A kill -9 can leave one; never a half-written target.
const pendingTemps = new Set<string>();
let exitHookSet = false;

function track(tmp: string): void {
  if (!exitHookSet) {
    exitHookSet = true;
    process.on('exit', () => {
      for (const t of pendingTemps) rmSync(t, { force: true });
    });
  }
  pendingTemps.add(tmp);
}

function removeTemp(tmp: string): void {
  pendingTemps.delete(tmp);
  try {
    rmSync(tmp, { force: true });
  } catch {
    // The folder itself is gone or unreadable; there is nothing left to clean.
  }
}

/**
 * The temporary file a write of `path` goes through: `.<name>.<pid>.<8 hex>.tmp` in the same
 * folder (the name cut to 200 bytes so the whole stays within 255).
 * @example tempPathFor('out/a.json') // 'out/.a.json.4711.9f86d081.tmp'
 */
export function tempPathFor(path: string): string {
  let base = basename(path);
  while (Buffer.byteLength(base) > 200) base = base.slice(0, -1);
  return join(dirname(path), `.${base}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function writeTemp(path: string, tmp: string, data: string | Uint8Array, mode: number): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = openSync(tmp, 'wx', mode);
  track(tmp);
  try {
    const chunk = Math.max(1, outputFaults.chunkBytes ?? 1 << 20);
    let offset = 0;
    do {
      outputFaults.beforeWrite?.({ path, tmp, offset, bytes: bytes.byteLength });
      offset += writeSync(fd, bytes, offset, Math.min(chunk, bytes.byteLength - offset));
    } while (offset < bytes.byteLength);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDir(dir: string): void {
  // Makes the renames durable. Some file systems refuse fsync on a folder; the files themselves
  // were synced, so that only weakens durability after a power cut, not what a reader sees.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* see above */
  }
}

/**
 * Creates `dir` and any missing folders above it, one level at a time. Not `mkdirSync(dir,
 * { recursive: true })`: on a file system that answers ENOENT for an existing parent (e.g. under
 * `/proc`), Node 20's recursive mkdir loops forever instead of failing.
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  let p = resolve(dir);
  for (;;) {
    let st: Stats | undefined;
    try {
      st = statSync(p, { throwIfNoEntry: false });
    } catch {
      break; // ENOTDIR, EACCES: the mkdir below fails with the cause, which is reported
    }
    if (st) break; // a file here makes the next mkdir fail with ENOTDIR, which is reported
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Files written together: {@link OutputBatch.write} writes each to its temporary file (creating
 * the folder), {@link OutputBatch.commit} renames them all into place in the order written,
 * {@link OutputBatch.abort} removes the temporary files. Write the file that marks a run complete
 * (a summary) last. A failing `write` removes its own temporary file and throws; call `abort` (or
 * use try/finally: `abort` after `commit` does nothing) to drop the others.
 * @example
 * const batch = new OutputBatch();
 * try {
 *   batch.write('out/paths.csv', csv);
 *   batch.write('out/summary.json', json);
 *   batch.commit(); // ['out/paths.csv', 'out/summary.json']
 * } finally {
 *   batch.abort();
 * }
 */
export class OutputBatch {
  private readonly staged = new Map<string, string>();

  /**
   * Writes `data` to a temporary file beside `path` (flushed to disk); `path` is untouched until {@link commit}.
   * Writing the same path twice keeps the second. `mode`: permission bits of the new file before the
   * umask (default 0o666; 0o600 for a file only the owner may read).
   * @throws OutputError naming `path` and the cause (`no space left on device (ENOSPC)`); the temporary file is removed.
   */
  write(path: string, data: string | Uint8Array, options: { mode?: number } = {}): void {
    const dir = dirname(path);
    try {
      makeFolders(dir);
    } catch (err) {
      throw new OutputError(`cannot create the folder: ${fsProblem(err, 'write')}`, { file: dir }, { cause: err });
    }
    const tmp = tempPathFor(path);
    try {
      writeTemp(path, tmp, data, options.mode ?? 0o666);
    } catch (err) {
      removeTemp(tmp);
      throw new OutputError(`cannot write: ${fsProblem(err, 'write')}; the previous file, if any, is unchanged`, { file: path }, { cause: err });
    }
    const earlier = this.staged.get(path);
    if (earlier !== undefined) removeTemp(earlier);
    this.staged.set(path, tmp);
  }

  /** The temporary file staged for `path` (to read back before the commit, e.g. to render it), or undefined. */
  tempOf(path: string): string | undefined {
    return this.staged.get(path);
  }

  /** The targets staged so far, in order. */
  get paths(): string[] {
    return [...this.staged.keys()];
  }

  /**
   * Renames every staged file into place, in the order written. @returns the paths.
   * @throws OutputError when a rename fails (the folder vanished, a folder now sits at the
   *   target): the files before it are in place, the rest are removed.
   */
  commit(): string[] {
    const done: string[] = [];
    const dirs = new Set<string>();
    for (const [path, tmp] of this.staged) {
      try {
        renameSync(tmp, path);
      } catch (err) {
        this.abort();
        const note = done.length ? `; already in place: ${done.join(', ')}` : '';
        throw new OutputError(`cannot move the new file into place: ${fsProblem(err, 'write')}${note}`, { file: path }, { cause: err });
      }
      pendingTemps.delete(tmp);
      this.staged.delete(path);
      done.push(path);
      dirs.add(dirname(path));
    }
    for (const d of dirs) syncDir(d);
    return done;
  }

  /** Removes every temporary file not yet renamed. Safe to call after {@link commit} and more than once. */
  abort(): void {
    for (const tmp of this.staged.values()) removeTemp(tmp);
    this.staged.clear();
  }
}

/**
 * Writes `data` to `path` atomically: a temporary file in the same folder, fsync, rename (the
 * folder is created). On failure the temporary file is removed and the previous file is unchanged.
 * @throws OutputError naming `path` and the cause.
 * @example writeFileAtomic('reports/a.html', '<!doctype html>...')
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const batch = new OutputBatch();
  try {
    batch.write(path, data);
    batch.commit();
  } finally {
    batch.abort();
  }
}

function statOf(path: string, refuse: (cause: string) => never): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    return refuse(`${path}: ${fsProblem(err, 'write')}`);
  }
}

function checkWritableFolder(dir: string, refuse: (cause: string) => never): void {
  try {
    // access(2) reports EROFS for a read-only file system and EACCES for missing permission.
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    refuse(`${dir === '.' ? 'the current folder' : dir} is not writable: ${fsProblem(err, 'write')}`);
  }
}

/**
 * Checks `dir` as an output folder, existing or to be created; `refuse` throws with the cause.
 * `self`: how the cause names `dir` itself (`it` when the error already names it).
 */
function checkFolder(dir: string, refuse: (cause: string) => never, self = 'it'): void {
  const st = statOf(dir, refuse);
  if (st) {
    if (!st.isDirectory()) refuse(`${self} is a file, not a folder`);
    checkWritableFolder(dir, refuse);
    return;
  }
  // To be created: the nearest existing folder above it must take new entries.
  let p = resolve(dir);
  for (;;) {
    const parent = dirname(p);
    if (parent === p) refuse('no folder above it exists');
    p = parent;
    const s = statOf(p, refuse);
    if (!s) continue;
    if (!s.isDirectory()) refuse(`${p} is a file, not a folder`);
    checkWritableFolder(p, refuse);
    return;
  }
}

/**
 * Checks, before any work starts, that `dir` can take a command's outputs: it is a folder (or can
 * be created under one), writable, on a writable file system, and none of `files` (names inside
 * it) is a folder. Creates nothing.
 * @param flag - The flag the folder came from, named in the error (`--out`).
 * @throws ConfigError in one line naming the flag, the folder and the cause, e.g.
 *   `cannot write to --out /mnt/ro/out: /mnt/ro is not writable: read-only file system (EROFS) (key "--out")`.
 * @example checkOutputDir('reports', '--out', ['index.html']) // returns; throws when reports is a file
 */
export function checkOutputDir(dir: string, flag: string, files: readonly string[] = []): void {
  const refuse = (cause: string): never => {
    throw new ConfigError(`cannot write to ${flag} ${dir}: ${cause}`, { key: flag });
  };
  if (typeof dir !== 'string' || dir.length === 0) refuse('no folder given');
  if (dir.includes('\0')) refuse('it contains a NUL byte');
  checkFolder(dir, refuse);
  for (const f of files) {
    const s = statOf(join(dir, f), refuse);
    if (s?.isDirectory()) refuse(`${join(dir, f)} is a folder where an output file goes`);
  }
}

/**
 * Checks, before any work starts, that `path` can be written as an output file: not a folder, its
 * folder existing or creatable, writable. Creates nothing.
 * @param flag - The flag or argument the path came from, named in the error (`<out>`).
 * @throws ConfigError in one line naming the flag, the path and the cause.
 * @example checkOutputFile('out/btc-1h.parquet', '<out>') // returns; throws when out/btc-1h.parquet is a folder
 */
export function checkOutputFile(path: string, flag: string): void {
  const refuse = (cause: string): never => {
    throw new ConfigError(`cannot write to ${flag} ${path}: ${cause}`, { key: flag });
  };
  if (typeof path !== 'string' || path.length === 0) refuse('no file given');
  if (path.includes('\0')) refuse('it contains a NUL byte');
  if (statOf(path, refuse)?.isDirectory()) refuse('it is a folder; name a file');
  checkFolder(dirname(path), refuse, dirname(path));
}
