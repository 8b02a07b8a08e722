/**
 * `quantbook worker`: takes sweep jobs from the queue and runs them in a fresh kernel each,
 * on any machine with the same checkout. A job for other code (another version, or another
 * notebook under the same name) is refused, never run.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { sha256File } from '../api/provenance';
import { packageRoot } from '../runner/build';
import { runNotebook } from '../runner/run';
import { connect, packNotebook, parseQueueUrl, projectVersion, QUEUE_NAME, type SweepJobData, type SweepJobResult } from './queue';

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** Jobs run at once (each a kernel process). Default 1. */
  concurrency?: number;
  /**
   * How long a job's lock lasts without renewal, in ms (renewed every half of it while the job
   * runs). A worker that dies leaves its job locked this long; then another worker takes it.
   * Default 30 000.
   */
  lockDurationMs?: number;
  /** The project checkout jobs run in. Default: this package's root. */
  root?: string;
  /** One line per event (job start, end, refusal). */
  log?: (line: string) => void;
}

/** A running worker. */
export interface RunningWorker {
  /** Finishes the jobs in hand (or abandons them after `graceMs`, back to the queue) and disconnects. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts a worker on the queue at `url`.
 * @throws ConfigError for a bad address.
 * @example const w = await startWorker('redis://127.0.0.1:6379', { concurrency: 2 }); await w.close();
 */
export async function startWorker(url: string, opts: WorkerOptions = {}): Promise<RunningWorker> {
  parseQueueUrl(url);
  const { Worker, UnrecoverableError } = await import('bullmq');
  const root = opts.root ?? packageRoot();
  const version = projectVersion(root);
  const me = `${hostname()}:${process.pid}`;
  const log = opts.log ?? (() => undefined);
  const lockDuration = opts.lockDurationMs ?? 30_000;
  const connection = await connect(url);
  const worker = new Worker<SweepJobData, SweepJobResult>(QUEUE_NAME, async (job) => {
    const d = job.data;
    if (d.version !== version) {
      const why = `refused by worker ${me}: it runs quantbook ${version}, the sweep needs ${d.version}; check out the same commit (and the same uncommitted changes) on both machines`;
      log(`#${d.index + 1} ${d.name}: ${why}`);
      throw new UnrecoverableError(why);
    }
    const path = join(root, d.notebook);
    const sha = existsSync(path) ? sha256File(path).sha256 : null;
    if (sha !== d.notebookSha256) {
      const why = `refused by worker ${me}: its ${d.notebook} ${sha ? `has sha256 ${sha.slice(0, 12)}` : 'is missing'}, the sweep's has ${d.notebookSha256.slice(0, 12)}`;
      log(`#${d.index + 1} ${d.name}: ${why}`);
      throw new UnrecoverableError(why);
    }
    const attempts = job.opts.attempts ?? 1;
    log(`#${d.index + 1} ${d.name}: running (attempt ${job.attemptsMade + 1} of ${attempts})`);
    const result = await runNotebook(path, {
      parameters: d.parameters, cellTimeoutMs: d.cellTimeoutMs, startTimeoutMs: d.startTimeoutMs, ensureBuild: false,
    });
    log(`#${d.index + 1} ${d.name}: ${result.info.status}${result.error ? ` (${result.error.message})` : ''}`);
    // A failing notebook is retried while attempts remain; the last attempt's notebook is the result.
    if (result.info.status !== 'ok' && job.attemptsMade + 1 < attempts) throw new Error(result.error?.message ?? 'the notebook failed');
    return { status: result.info.status, notebookGz: packNotebook(result.notebook), worker: me };
  }, {
    connection,
    concurrency: opts.concurrency ?? 1,
    lockDuration,
    stalledInterval: Math.max(1000, Math.round(lockDuration / 2)),
    maxStalledCount: 3,
  });
  worker.on('error', (err) => log(`queue error: ${err.message}`));
  await worker.waitUntilReady();
  log(`worker ${me} (quantbook ${version}) waiting for jobs on ${url.replace(/\/\/[^@/]*@/, '//***@')}`);
  return {
    async close(graceMs = 30_000) {
      const timer = setTimeout(() => void worker.close(true), graceMs);
      try {
        await worker.close();
      } finally {
        clearTimeout(timer);
        connection.disconnect();
      }
    },
  };
}
