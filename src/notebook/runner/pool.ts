/**
 * Runs tasks with at most `workers` in flight, in order of submission, and
 * reports each start and finish. Used for reports and sweeps, where each task
 * is one kernel process.
 */

/** Counts after each event, for progress lines. */
export interface PoolProgress<T, R> {
  kind: 'start' | 'finish';
  task: T;
  index: number;
  result?: R;
  done: number;
  running: number;
  total: number;
  elapsedMs: number;
}

/**
 * Maps `tasks` through `run` with bounded concurrency; results keep task order.
 * `run` should not throw (return a failed result instead); if it does, the
 * pool waits for tasks in flight and rethrows the first error.
 * @param workers - at least 1.
 * @example await runPool([1, 2, 3], 2, async (x) => x * 2) // [2, 4, 6]
 */
export async function runPool<T, R>(
  tasks: readonly T[],
  workers: number,
  run: (task: T, index: number) => Promise<R>,
  onProgress?: (p: PoolProgress<T, R>) => void,
): Promise<R[]> {
  const results = new Array<R>(tasks.length);
  const t0 = performance.now();
  let next = 0;
  let done = 0;
  let running = 0;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (next < tasks.length && firstError === undefined) {
      const index = next++;
      running++;
      onProgress?.({ kind: 'start', task: tasks[index], index, done, running, total: tasks.length, elapsedMs: performance.now() - t0 });
      try {
        results[index] = await run(tasks[index], index);
      } catch (err) {
        firstError ??= err;
      } finally {
        running--;
      }
      done++;
      onProgress?.({ kind: 'finish', task: tasks[index], index, result: results[index], done, running, total: tasks.length, elapsedMs: performance.now() - t0 });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, tasks.length)) }, worker));
  if (firstError !== undefined) throw firstError;
  return results;
}
