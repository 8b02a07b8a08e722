/**
 * Kernels started ahead of need: while notebook i runs, the kernel of notebook
 * i + 1 starts (tslab takes seconds to build its TypeScript program), so a
 * batch of reports does not wait for a kernel between notebooks. Every run
 * still gets a fresh kernel of its own, started in its notebook's folder; a
 * kernel is never reused. Kernels started here are ordinary `KernelClient`s:
 * `killAllKernels` (SIGINT/SIGTERM, exit) and each kernel's watchdog (SIGKILL
 * of this process) end them like any other.
 */
import { dirname, resolve } from 'node:path';
import { KernelClient } from './kernel';

/** How the pool starts kernels. */
export interface KernelPoolOptions {
  /** argv starting a kernel (`{connection_file}` is replaced). Default: the installed tslab. */
  kernelArgv?: string[];
  /** Kernel start-up limit in milliseconds (KernelClient's default when absent). */
  startTimeoutMs?: number;
  /** Kernels started ahead of the notebooks taken so far. Default 1. */
  ahead?: number;
  /** Starts a kernel (tests); default `KernelClient.start`. */
  start?: typeof KernelClient.start;
}

/**
 * A kernel per notebook of a fixed list, started up to `ahead` notebooks early.
 * Take each notebook's kernel once with {@link KernelPool.take}; the taker owns
 * it and shuts it down. {@link KernelPool.close} shuts down the kernels started
 * for notebooks never taken (a batch stopped early).
 * @example
 * const pool = new KernelPool(['a.ipynb', 'b.ipynb']);
 * const kernelA = pool.take(0); // b's kernel starts now, while a runs
 * // ... run a with await kernelA, shut it down, then pool.take(1) ...
 * await pool.close();
 */
export class KernelPool {
  private readonly waiting = new Map<number, Promise<KernelClient>>();
  private readonly taken = new Set<number>();
  private closed = false;
  private readonly ahead: number;

  constructor(
    private readonly notebooks: readonly string[],
    private readonly opts: KernelPoolOptions = {},
  ) {
    this.ahead = Math.max(0, Math.floor(opts.ahead ?? 1));
  }

  /** Kernels started and not yet taken. */
  get pending(): number {
    return this.waiting.size;
  }

  /**
   * The kernel of notebook `index` (started now unless it was started ahead), and
   * starts the kernels of the next `ahead` notebooks not taken yet.
   * @throws Error when `index` is out of range, was taken before, or the pool is closed.
   */
  take(index: number): Promise<KernelClient> {
    if (this.closed) throw new Error('kernel pool is closed');
    if (!(index >= 0 && index < this.notebooks.length) || this.taken.has(index)) throw new Error(`kernel of notebook ${index} cannot be taken`);
    const kernel = this.waiting.get(index) ?? this.start(index);
    this.waiting.delete(index);
    this.taken.add(index);
    for (let j = index + 1; j < this.notebooks.length && this.waiting.size < this.ahead; j++) {
      if (!this.taken.has(j) && !this.waiting.has(j)) this.waiting.set(j, this.start(j));
    }
    return kernel;
  }

  /** Shuts down the kernels started for notebooks never taken; later takes throw. */
  async close(): Promise<void> {
    this.closed = true;
    const left = [...this.waiting.values()];
    this.waiting.clear();
    await Promise.all(left.map((p) => p.then((k) => k.shutdown(), () => undefined)));
  }

  private start(index: number): Promise<KernelClient> {
    const notebook = this.notebooks[index];
    const start = this.opts.start ?? ((o) => KernelClient.start(o));
    const p = start({ cwd: dirname(resolve(notebook)), argv: this.opts.kernelArgv, startTimeoutMs: this.opts.startTimeoutMs, notebook });
    // A start that fails is reported to whoever takes it; until then it must not count as unhandled.
    p.catch(() => undefined);
    return p;
  }
}
