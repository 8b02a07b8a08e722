/**
 * The entry of the kernel's V8 startup snapshot (`snapshot.ts` builds it with
 * `node --snapshot-blob <blob> --build-snapshot snapshotEntry.js`; kernels start with
 * `node --snapshot-blob <blob> ... tslab kernel ...`).
 *
 * Why: every fresh tslab kernel loads TypeScript (about 8 MB of JavaScript) and parses the same
 * declaration files before its first cell can run (the ES2022 lib, `@types/node`, nodejs-polars,
 * zod: about 3.5 MB of `.d.ts`). Parsing is a pure function of a file's text and the parse options,
 * so the snapshot holds TypeScript already loaded and those files already parsed
 * (`ts.createSourceFile`) and, when {@link SnapshotBuildSpec.warm} is given, bound by a program
 * type-checked with tslab's options: measured on the sample notebook's cells through tslab's
 * converter, CPU 2.4-3.1 s per kernel without the snapshot, about 0.45 s less with parsed files,
 * 0.3 s less again with them bound.
 *
 * How a parsed file is reused: TypeScript's internal `createSourceFile` gets a guard at its top
 * (the module's source is changed in memory only, never on disk): when the snapshot holds a file
 * of the same name, parse options and exactly the same text, that tree is returned, once (a second
 * request parses afresh); anything else parses as without a snapshot. The count of reused files
 * is written to {@link SnapshotKernelSpec.reportFile}.
 *
 * Only Node's built-in modules may be required while a snapshot is built; the deserialized main
 * function installs the loaded TypeScript as the module tslab requires, then runs the script
 * named on the command line (`Module.runMain`), whatever it is (a child started with the
 * kernel's execArgv runs its own script).
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { startupSnapshot } from 'node:v8';
import { runInThisContext } from 'node:vm';

/** Environment variable carrying the {@link SnapshotBuildSpec} to the snapshot builder. */
export const SNAPSHOT_BUILD_ENV = 'QUANTBOOK_SNAPSHOT_BUILD';
/** Environment variable carrying the {@link SnapshotKernelSpec} to a kernel started from the snapshot. */
export const SNAPSHOT_KERNEL_ENV = 'QUANTBOOK_KERNEL_SNAPSHOT';

/** What the builder is told. */
export interface SnapshotBuildSpec {
  /** The real path of the TypeScript module tslab requires (`@tslab/typescript-for-tslab/lib/typescript.js`). */
  typescript: string;
  /** Real paths of the declaration files to parse. */
  files: string[];
  /** `ts.ScriptTarget` the kernel parses with (tslab: ES2022 = 9 on Node 18+). */
  languageVersion: number;
  /**
   * A program type-checked once while the snapshot is built, with tslab's compiler options: it binds
   * the parsed files it loads (the binder skips a bound file, as TypeScript's language service
   * relies on when programs share files) and compiles the checker's code. Absent: files stay unbound.
   */
  warm?: {
    /** The folder the kernel runs in (`notebooks/`): the program's current directory and rootDir. */
    dir: string;
    /** tslab's type roots from that folder (its `getTypeRoots`). */
    typeRoots: string[];
    /** The program's one source file (a notebook cell's imports): its text. */
    source: string;
  };
}

/** What a kernel started from the snapshot is told. */
export interface SnapshotKernelSpec {
  /** Where {@link SnapshotKernelReport} is written once the kernel's script has loaded; absent: nowhere. */
  reportFile?: string;
}

/** What a kernel started from the snapshot did with it. */
export interface SnapshotKernelReport {
  /** Parsed declaration files the snapshot held. */
  offered: number;
  /** Of those, reused while the kernel started (same name, options and text); more may be reused by its cells. */
  reused: number;
}

/** The start of TypeScript 5's internal `createSourceFile` (the guard goes right after it). */
export const CREATE_SOURCE_FILE_ANCHOR =
  '  function createSourceFile(fileName, sourceText, languageVersionOrOptions, setParentNodes = false, scriptKind) {\n';

interface ParseCache {
  files: Map<string, { text: string }>;
  reused: number;
}

declare global {
  // The parsed files, shared with the guard compiled into TypeScript's source.
  var __quantbookParsed: ParseCache | undefined;
}

/** The key of a parse: file name, language version, implied module format, parent pointers, script kind. */
function parseKey(fileName: string, languageVersion: unknown, format: unknown, parents: boolean, kind: unknown): string {
  return [fileName, String(languageVersion), String(format), String(parents), String(kind)].join('\0');
}

/**
 * TypeScript's source with the reuse guard put in right after {@link CREATE_SOURCE_FILE_ANCHOR} (see the file comment).
 * @throws Error when the anchor is not found exactly once (another TypeScript: no snapshot is built).
 * @example withParseGuard(readFileSync(typescriptJs, 'utf8')) // the same source, one guard longer
 */
export function withParseGuard(source: string): string {
  const at = source.indexOf(CREATE_SOURCE_FILE_ANCHOR);
  if (at < 0 || source.indexOf(CREATE_SOURCE_FILE_ANCHOR, at + 1) >= 0) {
    throw new Error('TypeScript has no single internal createSourceFile of the expected form: no snapshot');
  }
  const guard = `    { const c = globalThis.__quantbookParsed; if (c !== undefined) {
      const o = typeof languageVersionOrOptions === "object" ? languageVersionOrOptions : { languageVersion: languageVersionOrOptions };
      const k = [fileName, String(o.languageVersion), String(o.impliedNodeFormat), String(!!setParentNodes), String(scriptKind)].join("\\0");
      const hit = c.files.get(k);
      if (hit !== undefined) { c.files.delete(k); if (hit.text === sourceText) { c.reused++; return hit; } } } }\n`;
  const end = at + CREATE_SOURCE_FILE_ANCHOR.length;
  return source.slice(0, end) + guard + source.slice(end);
}

interface TsModule {
  createSourceFile: (name: string, text: string, options: object, parents: boolean) => { text: string };
  getSetExternalModuleIndicator: (options: object) => unknown;
  getDefaultLibFileName: (options: object) => string;
  createProgram: (roots: string[], options: object, host: object) => { getSourceFile: (name: string) => unknown };
  getPreEmitDiagnostics: (program: object, file?: unknown) => readonly unknown[];
}

/**
 * tslab's compiler options (`converter.js` createConverter, tslab 1.0.22) for a kernel in `dir`:
 * those the binder reads (strictness, target, const enums) must be the kernel's for a file bound
 * here to be the file the kernel would bind.
 */
function tslabOptions(dir: string, typeRoots: string[], languageVersion: number): object {
  return {
    module: 99, moduleResolution: 2, esModuleInterop: true, target: languageVersion, lib: ['lib.es2022.d.ts'],
    declaration: true, newLine: 1, noImplicitUseStrict: true, experimentalDecorators: true, resolveJsonModule: true,
    jsx: 2, typeRoots, allowJs: true, checkJs: true, disableTopLevelAwait: true, skipLibCheck: true, rootDir: dir, outDir: 'outDir',
  };
}

/** Type-checks {@link SnapshotBuildSpec.warm}'s program over the parsed files (see there); never touches `ts.sys`, whose current directory is memoized. */
function warmChecker(ts: TsModule, spec: SnapshotBuildSpec, files: Map<string, { text: string }>): void {
  if (!spec.warm) return;
  const { dir, typeRoots, source } = spec.warm;
  const root = join(dir, '__quantbook_snapshot_warm__.ts');
  const libDir = dirname(spec.typescript);
  const host = {
    getSourceFile: (name: string, lv: number | { languageVersion: number; impliedNodeFormat?: number }) => {
      if (name === root) return ts.createSourceFile(name, source, typeof lv === 'object' ? lv : { languageVersion: lv }, false);
      const o = typeof lv === 'object' ? lv : { languageVersion: lv, impliedNodeFormat: undefined };
      // Only the snapshot's own parsed files: anything else (dist/) is left out of it.
      return files.get(parseKey(name, o.languageVersion, o.impliedNodeFormat, false, undefined));
    },
    fileExists: (f: string) => f === root || existsSync(f),
    readFile: (f: string) => {
      try {
        return readFileSync(f, 'utf8');
      } catch {
        return undefined;
      }
    },
    directoryExists: (d: string) => {
      try {
        return statSync(d).isDirectory();
      } catch {
        return false;
      }
    },
    getDirectories: (d: string) => {
      try {
        return readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
      } catch {
        return [];
      }
    },
    realpath: (f: string) => {
      try {
        return realpathSync.native(f);
      } catch {
        return f;
      }
    },
    getCurrentDirectory: () => dir,
    getCanonicalFileName: (f: string) => f,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
    getDefaultLibFileName: (o: object) => join(libDir, ts.getDefaultLibFileName(o)),
    writeFile: () => undefined,
  };
  const program = ts.createProgram([root], tslabOptions(dir, typeRoots, spec.languageVersion), host);
  ts.getPreEmitDiagnostics(program, program.getSourceFile(root));
}

interface ModuleInternals {
  new (id: string, parent: null): { filename: string; loaded: boolean; exports: unknown; paths: string[] };
  wrap: (source: string) => string;
  runMain: (main?: string) => void;
  _cache: Record<string, unknown>;
}

function buildSnapshot(spec: SnapshotBuildSpec): void {
  const M = Module as unknown as ModuleInternals;
  const source = withParseGuard(readFileSync(spec.typescript, 'utf8'));
  const mod = { exports: {} as unknown };
  const wrapper = runInThisContext(M.wrap(source), { filename: spec.typescript }) as (...args: unknown[]) => void;
  wrapper.call(mod.exports, mod.exports, require, mod, spec.typescript, dirname(spec.typescript));
  const ts = mod.exports as TsModule;
  // tslab's options (converter.js): module ESNext (99), moduleResolution Node10 (2); the indicator decides whether a file is a module.
  const setExternalModuleIndicator = ts.getSetExternalModuleIndicator({ module: 99, moduleResolution: 2, target: spec.languageVersion });
  const files = new Map<string, { text: string }>();
  for (const file of spec.files) {
    const options = { languageVersion: spec.languageVersion, impliedNodeFormat: undefined, setExternalModuleIndicator };
    files.set(parseKey(file, spec.languageVersion, undefined, false, undefined), ts.createSourceFile(file, readFileSync(file, 'utf8'), options, false));
  }
  warmChecker(ts, spec, files);
  const typescript = spec.typescript;
  startupSnapshot.setDeserializeMainFunction(() => {
    const kernelSpec = process.env[SNAPSHOT_KERNEL_ENV] ? (JSON.parse(process.env[SNAPSHOT_KERNEL_ENV]) as SnapshotKernelSpec) : {};
    delete process.env[SNAPSHOT_KERNEL_ENV];
    // Node leaves Error.stackTraceLimit out of a user snapshot and does not put it back: without it
    // errors have no stack, and a failing cell's text would differ from a kernel started without
    // the snapshot. Restore Node's own limit (10, or --stack-trace-limit): what such a kernel has.
    if (typeof Error.stackTraceLimit !== 'number') {
      const flag = process.execArgv.map((a) => /^--stack-trace-limit=(\d+)$/.exec(a)).find((m) => m !== null);
      Error.stackTraceLimit = flag ? Number(flag[1]) : 10;
    }
    const offered = files.size;
    const cache: ParseCache = { files, reused: 0 };
    globalThis.__quantbookParsed = cache;
    const m = new M(typescript, null);
    m.filename = typescript;
    m.loaded = true;
    m.exports = ts;
    M._cache[typescript] = m;
    const main = process.argv[1] === undefined ? undefined : resolve(process.argv[1]);
    if (main !== undefined) process.argv[1] = main;
    M.runMain(main);
    // tslab parses its lib and type roots synchronously while its script loads (createConverter);
    // the parsed files of its first imports (nodejs-polars, zod) stay offered for its cells.
    if (kernelSpec.reportFile) {
      const report: SnapshotKernelReport = { offered, reused: cache.reused };
      try {
        writeFileSync(kernelSpec.reportFile, JSON.stringify(report));
      } catch {
        // The connection folder is gone: the runner has gone too.
      }
    }
  });
}

if (startupSnapshot.isBuildingSnapshot() && process.env[SNAPSHOT_BUILD_ENV]) {
  buildSnapshot(JSON.parse(process.env[SNAPSHOT_BUILD_ENV]) as SnapshotBuildSpec);
}
