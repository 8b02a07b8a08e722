/**
 * Kernels started ahead of need: while notebook i runs, the kernel of notebook
 * i + 1 starts (tslab takes seconds to build its TypeScript program), so a
 * batch of reports does not wait for a kernel between notebooks. Every run
 * still gets a fresh kernel of its own, started in its notebook's folder; a
 * kernel is never reused. A kernel started ahead is also warmed up: asked for
 * completions after its notebook's `import` statements (a complete_request runs
 * nothing and leaves no trace in the notebook), tslab resolves those modules and
 * parses their declaration files, which its first cell would otherwise do while
 * the report waits. Kernels started here are ordinary `KernelClient`s:
 * `killAllKernels` (`kernelProcesses.ts`; SIGINT/SIGTERM, exit) and each kernel's watchdog (SIGKILL
 * of this process) end them like any other.
 */
import { dirname, resolve } from 'node:path';
import { cellSource, readNotebook } from '../records/nbformat';
import { COMPILE_CACHE_SWITCH } from './compileCache';
import { compiledBefore, runFingerprint } from './compileStore';
import { KernelClient } from './kernel';
import { kernelCompileCacheDir } from './preloads';

/** How the pool starts kernels. */
export interface KernelPoolOptions {
  /** argv starting a kernel (`{connection_file}` is replaced). Default: the installed tslab. */
  kernelArgv?: string[];
  /** Kernel start-up limit in milliseconds (KernelClient's default when absent). */
  startTimeoutMs?: number;
  /** Kernels started ahead of the notebooks taken so far. Default 1. */
  ahead?: number;
  /**
   * Warm kernels started ahead up with their notebook's imports (see above). Default true; a
   * kernel with the compile cache is not warmed up when the last run of the same cells went wholly
   * through it (`compileCache.ts` {@link compiledBefore}): its cells will likely compile none, and
   * the warm-up would parse declarations for nothing (counted in `warmUpSkipped`).
   */
  warmUp?: boolean;
  /** The parameters the notebooks run with (they are part of a run's fingerprint). Default none. */
  parameters?: unknown;
  /**
   * How long a warm-up may take, in milliseconds (default 60,000). A kernel whose warm-up is not
   * answered in time and that then misses a heartbeat is killed and replaced by a fresh kernel
   * without warm-up (counted in `warmUpReplaced`); one that answers the heartbeat is handed over.
   */
  warmUpTimeoutMs?: number;
  /** Starts a kernel (tests); default `KernelClient.start`. */
  start?: typeof KernelClient.start;
  /**
   * Kernels started before the notebooks' order was known ({@link startEarlyKernels}): a take
   * hands over one of its notebook's folder before starting a kernel of its own. Those never
   * taken are shut down by {@link KernelPool.close}.
   */
  early?: readonly EarlyKernel[];
}

/** A fresh kernel started for any notebook of a folder, before it is known which runs first. */
export interface EarlyKernel {
  /** The kernel's working directory (its notebooks' folder). */
  cwd: string;
  kernel: Promise<KernelClient>;
  /** Settles once its process is spawned (or its start failed): blocking work may follow. */
  spawned: Promise<void>;
}

/**
 * Starts the kernels of the first `n` notebooks now, each in its notebook's folder, not yet tied
 * to a notebook: `quantbook report` starts them while it reads how long each notebook took
 * before (DuckDB loads meanwhile), then hands them to the notebooks that run first, in any order,
 * through {@link KernelPoolOptions.early}. Like the pool's first kernels they are not warmed up.
 * @example const early = startEarlyKernels(['nb/a.ipynb', 'nb/b.ipynb'], 2); // two kernels in nb/
 */
export function startEarlyKernels(notebooks: readonly string[], n: number, opts: Pick<KernelPoolOptions, 'kernelArgv' | 'startTimeoutMs' | 'start'> = {}): EarlyKernel[] {
  const start = opts.start ?? ((o) => KernelClient.start(o));
  return notebooks.slice(0, Math.max(0, Math.floor(n))).map((notebook) => {
    const cwd = dirname(resolve(notebook));
    let spawned!: () => void;
    const isSpawned = new Promise<void>((r) => void (spawned = r));
    // Start-up errors name the folder: the notebook is not chosen yet.
    const kernel = start({ cwd, argv: opts.kernelArgv, startTimeoutMs: opts.startTimeoutMs, notebook: cwd, onSpawn: () => spawned() });
    kernel.then(() => spawned(), () => spawned()); // a start that fails before spawning; errors go to whoever takes it
    return { cwd, kernel, spawned: isSpawned };
  });
}

const IMPORT = /^[ \t]*import\b[^;'"()]*?(?:from\s*)?(['"])[^'"\n]+\1;?/gm;

/**
 * The `import` statements of a notebook's code cells, one per line, for a warm-up completion
 * request; '' when there are none or the file cannot be read (the run then reports the problem).
 * @example warmUpCode('notebooks/00-pipeline-sample.ipynb') // "import { Rng } from '../dist/core';\n..."
 */
export function warmUpCode(notebook: string): string {
  try {
    const cells = readNotebook(notebook).cells.filter((c) => c.cell_type === 'code');
    return cells.flatMap((c) => cellSource(c).match(IMPORT) ?? []).map((l) => `${l.trim()}\n`).join('');
  } catch {
    return '';
  }
}

/**
 * The fingerprint of a notebook's run for the compile cache's run markers (`compileCache.ts`
 * {@link runFingerprint}): its folder, the parameters and its file's code cells; undefined when the
 * file cannot be read.
 * @example notebookRunFingerprint('notebooks/00-pipeline-sample.ipynb', {}) // 64 hex digits
 */
export function notebookRunFingerprint(notebook: string, parameters: unknown): string | undefined {
  try {
    const sources = readNotebook(notebook).cells.filter((c) => c.cell_type === 'code').map(cellSource);
    return runFingerprint(dirname(resolve(notebook)), parameters, sources);
  } catch {
    return undefined;
  }
}

/**
 * A kernel per notebook of a fixed list, started up to `ahead` notebooks early.
 * Take each notebook's kernel once with {@link KernelPool.take}; the taker owns
 * it and shuts it down. {@link KernelPool.close} shuts down the kernels started
 * for notebooks never taken (a batch stopped early).
 * @example
 * const pool = new KernelPool(['a.ipynb', 'b.ipynb']);
 * const kernelA = pool.take(0); // b's kernel starts once a's is ready, while a runs
 * // ... run a with await kernelA, shut it down, then pool.take(1) ...
 * await pool.close();
 */
export class KernelPool {
  private readonly waiting = new Map<number, Promise<KernelClient>>();
  private readonly taken = new Set<number>();
  private readonly early: EarlyKernel[];
  private closed = false;
  private readonly ahead: number;
  /** Warm-ups done (answered) so far, for tests and benches. */
  warmedUp = 0;
  /** Warm-ups skipped because the notebook's last run compiled every cell through the compile cache. */
  warmUpSkipped = 0;
  /** Warm-ups not answered within `warmUpTimeoutMs`. */
  warmUpTimedOut = 0;
  /** Kernels replaced after a warm-up left them silent (no heartbeat). */
  warmUpReplaced = 0;

  constructor(
    private readonly notebooks: readonly string[],
    private readonly opts: KernelPoolOptions = {},
  ) {
    this.ahead = Math.max(0, Math.floor(opts.ahead ?? 1));
    this.early = [...(opts.early ?? [])];
  }

  /** Kernels started and not yet taken. */
  get pending(): number {
    return this.waiting.size;
  }

  /**
   * The kernel of notebook `index` (started now unless it was started ahead), and, once it is
   * ready, starts the kernels of the next `ahead` notebooks not taken yet.
   * @throws Error when `index` is out of range, was taken before, or the pool is closed.
   */
  take(index: number): Promise<KernelClient> {
    if (this.closed) throw new Error('kernel pool is closed');
    if (!(index >= 0 && index < this.notebooks.length) || this.taken.has(index)) throw new Error(`kernel of notebook ${index} cannot be taken`);
    // Started now, a kernel is needed at once: a warm-up would only come before the first cell.
    const kernel = this.waiting.get(index) ?? this.takeEarly(index) ?? this.start(index, false);
    this.waiting.delete(index);
    this.taken.add(index);
    // The next kernels start once this one is ready, not beside it: a run waiting for its kernel
    // (the first ones, several at once with workers) must not share the CPU with kernels needed later.
    const startAhead = (): void => {
      if (this.closed) return;
      for (let j = index + 1; j < this.notebooks.length && this.waiting.size < this.ahead; j++) {
        if (!this.taken.has(j) && !this.waiting.has(j)) this.waiting.set(j, this.start(j, this.opts.warmUp ?? true));
      }
    };
    kernel.then(startAhead, startAhead);
    return kernel;
  }

  /** Shuts down the kernels started for notebooks never taken; later takes throw. */
  async close(): Promise<void> {
    this.closed = true;
    const left = [...this.waiting.values(), ...this.early.splice(0).map((e) => e.kernel)];
    this.waiting.clear();
    await Promise.all(left.map((p) => p.then((k) => k.shutdown(), () => undefined)));
  }

  /** An early kernel of notebook `index`'s folder, removed from the spares; undefined when none. */
  private takeEarly(index: number): Promise<KernelClient> | undefined {
    const cwd = dirname(resolve(this.notebooks[index]));
    const at = this.early.findIndex((e) => e.cwd === cwd);
    return at < 0 ? undefined : this.early.splice(at, 1)[0].kernel;
  }

  /** Whether the kernels get the compile cache and the notebook's last run went wholly through it (then counted skipped). */
  private compiledBefore(notebook: string): boolean {
    if (this.opts.kernelArgv !== undefined || process.env[COMPILE_CACHE_SWITCH] === 'off') return false;
    const fingerprint = notebookRunFingerprint(notebook, this.opts.parameters);
    const skip = fingerprint !== undefined && compiledBefore(kernelCompileCacheDir(), fingerprint);
    if (skip) this.warmUpSkipped++;
    return skip;
  }

  private start(index: number, warmUp: boolean): Promise<KernelClient> {
    const notebook = this.notebooks[index];
    const start = this.opts.start ?? ((o) => KernelClient.start(o));
    const options = { cwd: dirname(resolve(notebook)), argv: this.opts.kernelArgv, startTimeoutMs: this.opts.startTimeoutMs, notebook };
    const started = start(options);
    const code = warmUp && !this.compiledBefore(notebook) ? warmUpCode(notebook) : '';
    // Handed over only once the warm-up is answered: tslab answers nothing else meanwhile, not even
    // heartbeats (the run checks one before each cell). A warm-up that fails changes nothing.
    // A warm-up is bounded: tslab answers no completion when its language service throws, and a
    // kernel stuck compiling answers nothing, so a report must not wait on either (a CI run once
    // waited 9 minutes here). Silent after the limit: replaced by a fresh kernel, no warm-up.
    const p = code ? started.then(async (k) => {
      if (await k.complete(code, this.opts.warmUpTimeoutMs ?? 60_000).catch(() => false)) {
        this.warmedUp++;
        return k;
      }
      this.warmUpTimedOut++;
      if (await k.heartbeat()) return k;
      this.warmUpReplaced++;
      await k.kill();
      return start(options);
    }) : started;
    // A start that fails is reported to whoever takes it; until then it must not count as unhandled.
    p.catch(() => undefined);
    return p;
  }
}
