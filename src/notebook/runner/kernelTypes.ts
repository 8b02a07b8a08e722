/**
 * What a caller gives the kernel client (`kernel.ts`) and what it gets back: the options of a
 * kernel's start, what the start did with the startup snapshot, and a cell execution's options,
 * outcome and result.
 */
import type { Output } from '../records/nbformat';
import type { SnapshotState } from './snapshot';
import type { SnapshotKernelReport } from './snapshotEntry';

/** How to start the kernel and how long to wait for it. */
export interface KernelOptions {
  /** Working directory of the kernel (JupyterLab uses the notebook's folder). */
  cwd: string;
  /**
   * argv starting the kernel; `{connection_file}` is replaced. Default: this package's tslab.
   * When argv[0] is a Node binary the kernel watchdog (`watchdog.ts`) is preloaded, so the
   * kernel ends when this process does, even after SIGKILL; other commands run as given.
   */
  argv?: string[];
  /** Milliseconds to wait for the first kernel_info_reply, per kernel started. Default 60 000. */
  startTimeoutMs?: number;
  /**
   * Fresh kernels (new ports, new process) started in place of one that stays silent past
   * `startTimeoutMs` while alive, or says it can never answer (a failed bind on stderr). Default 1.
   * Each is counted in `silentStarts` and said on stderr.
   */
  silentRetries?: number;
  /** Notebook path, only for error messages. */
  notebook?: string;
  /**
   * Called once the kernel process is spawned (before its start-up): a caller can then do
   * blocking work of its own (loading DuckDB) without delaying the spawn. Called per kernel spawned.
   */
  onSpawn?: () => void;
  /**
   * Preload the V8 code cache of the kernel's big modules (`codeCache.ts`) into a Node kernel,
   * kept in `codeCacheDir`. Default true.
   */
  codeCache?: boolean;
  /** The code cache folder. Default {@link kernelCodeCacheDir}. */
  codeCacheDir?: string;
  /**
   * Preload the compile cache (`compileCache.ts`) into a Node tslab kernel: a cell whose source,
   * earlier cells' declarations and program files are those of an earlier run reuses that run's
   * compile result, kept in `compileCacheDir`. Default true, unless this process's environment has
   * `QUANTBOOK_COMPILE_CACHE=off` (`--no-compile-cache`).
   */
  compileCache?: boolean;
  /** The compile cache folder. Default {@link kernelCompileCacheDir}. */
  compileCacheDir?: string;
  /**
   * Start the default tslab kernel from the V8 startup snapshot (`snapshotEntry.ts`: TypeScript
   * loaded, the common declaration files parsed), kept in `snapshotDir`; when it is not built yet
   * it is built in the background and this kernel starts without it. Ignored with `argv`. Default true.
   */
  snapshot?: boolean;
  /** The snapshot folder. Default {@link kernelSnapshotDir}. */
  snapshotDir?: string;
}

/** What the kernel start did with the startup snapshot (`snapshot.ts`). */
export interface KernelSnapshotUse {
  /**
   * `used`: started from it; else why not (`building`, `corrupt`, `unavailable`: see {@link SnapshotState};
   * `refused`: the kernel exited at start-up from it, removed, restarted without it).
   */
  state: Exclude<SnapshotState['state'], 'ready'> | 'used' | 'refused';
  /** When used: what the kernel reused from it. */
  report?: SnapshotKernelReport;
  /** When unavailable: why. */
  reason?: string;
}

/** How a cell's execution ended. */
export type CellOutcome =
  | { kind: 'ok' }
  | { kind: 'error'; errorText: string }
  | { kind: 'timeout'; timeoutMs: number; stoppedBy: 'interrupt' | 'kill'; errorText: string }
  | { kind: 'kernel-died'; exitCode: number | null; signal: string | null; errorText: string };

/** The result of one execute_request. */
export interface ExecuteResult {
  outcome: CellOutcome;
  executionCount: number | null;
  outputs: Output[];
  durationMs: number;
}

/** Options for one execution. */
export interface ExecuteOptions {
  /** Interrupt the cell after this many milliseconds (any length, see `setLongTimeout`); 0 or absent waits forever. */
  timeoutMs?: number;
  /** After an interrupt, wait this long for the kernel to stop before killing it. Default 5000. */
  interruptGraceMs?: number;
}
