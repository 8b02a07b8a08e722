/**
 * The coordinator of a sweep on a queue: puts one job per combination on the queue, follows
 * them, writes each finished run (executed notebook, HTML report rendered here, summary) into
 * `<out>/runs/` as it arrives, and at the end the same `results.csv`, `results.json` and
 * comparison page a local sweep writes. The sweep's definition and every recorded combination
 * live in Redis, so a coordinator that died resumes with `--resume SWEEP_ID` without running
 * a finished combination again.
 */
import { randomBytes } from 'node:crypto';
import { join, relative, resolve } from 'node:path';
import { ConfigError, NotebookError } from '../../core/errors';
import { OutputBatch } from '../../core/output';
import { sha256File } from '../api/provenance';
import { renderReport } from '../report/html';
import { packageRoot } from '../runner/build';
import { notebookText } from '../records/nbformat';
import type { Parameters, RunInfo, RunSummary } from '../records/run';
import type { GridAxis, SweepResult } from '../records/sweep';
import { summaryOfResult, summaryText, writeSummary } from '../runner/reports';
import type { RunResult } from '../runner/run';
import { comboName, expandGrid, writeSweepOutputs } from './sweep';
import {
  connect, doneKey, jobIdOf, metaKey, parseQueueUrl, projectVersion, QUEUE_NAME, unpackNotebook,
  type SweepJobData, type SweepJobResult, type SweepMeta,
} from './queue';

/** Progress of a queued sweep, after every change. */
export interface QueuedProgress {
  sweepId: string;
  total: number;
  done: number;
  failed: number;
  running: number;
  elapsedMs: number;
  /** The combination just recorded, when this event records one. */
  recorded?: { index: number; summary: RunSummary };
  /** A job that had vanished from the queue and was put back. */
  requeued?: number;
}

/** Options of {@link queueSweep} and {@link resumeQueuedSweep}. */
export interface QueuedSweepOptions {
  /** Times a failing combination runs in all (1 = no retry). Default 2. */
  attempts?: number;
  cellTimeoutMs?: number;
  startTimeoutMs?: number;
  collapseCode?: boolean;
  /** How often the coordinator looks at the jobs, ms. Default 500. */
  pollMs?: number;
  onProgress?: (p: QueuedProgress) => void;
  /** Called once per combination recorded by this coordinator (the run catalogue's hook). */
  onRunDone?: (summary: RunSummary, result: RunResult | undefined) => void;
  /** Called once the jobs are on the queue, with the id to resume by. */
  onQueued?: (sweepId: string) => void;
}

/**
 * A new sweep id: `sw` + UTC time to the second + 4 random hex digits.
 * @example newSweepId() // 'sw20261202T090000Z-1a2b'
 */
export function newSweepId(): string {
  return `sw${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(2).toString('hex')}`;
}

/**
 * Runs a sweep on the workers of the queue at `url` and returns when every combination is
 * recorded. The notebook must sit inside the project checkout (workers find it by its path
 * relative to the project root).
 * @throws ConfigError for a bad address or a notebook outside the project.
 * @example await queueSweep('redis://127.0.0.1:6379', 'notebooks/05-sweep.ipynb', axes, {}, 'reports/sweeps/x')
 */
export async function queueSweep(url: string, notebook: string, axes: GridAxis[], fixed: Parameters, outDir: string,
  opts: QueuedSweepOptions = {}): Promise<SweepResult & { sweepId: string }> {
  parseQueueUrl(url);
  const root = packageRoot();
  const notebookRel = relative(root, resolve(notebook));
  if (notebookRel.startsWith('..') || resolve(root, notebookRel) !== resolve(notebook)) {
    throw new ConfigError('a queued sweep runs a notebook inside the project checkout (workers find it by its path there)', { file: notebook, key: '--queue' });
  }
  const combos = expandGrid(axes);
  const meta: SweepMeta = {
    sweepId: newSweepId(),
    notebook,
    notebookRel,
    notebookSha256: sha256File(notebook).sha256,
    version: projectVersion(root),
    axes,
    fixed,
    combos,
    names: combos.map((c, i) => comboName(i, combos.length, c)),
    outDir: resolve(outDir),
    attempts: opts.attempts ?? 2,
    cellTimeoutMs: opts.cellTimeoutMs ?? 0,
    startTimeoutMs: opts.startTimeoutMs ?? 60_000,
    collapseCode: Boolean(opts.collapseCode),
    createdAt: new Date().toISOString(),
  };
  const redis = await connect(url);
  try {
    await redis.set(metaKey(meta.sweepId), JSON.stringify(meta));
  } finally {
    redis.disconnect();
  }
  return follow(url, meta, opts, true);
}

/**
 * Resumes a sweep whose coordinator stopped: combinations already recorded are kept as they
 * are, the rest are followed (and put back on the queue where they vanished).
 * @throws ConfigError when the queue holds no sweep with this id.
 * @example await resumeQueuedSweep('redis://127.0.0.1:6379', 'sw20261202T090000Z-1a2b')
 */
export async function resumeQueuedSweep(url: string, sweepId: string, opts: QueuedSweepOptions = {}): Promise<SweepResult & { sweepId: string }> {
  parseQueueUrl(url);
  const redis = await connect(url);
  let text: string | null;
  try {
    text = await redis.get(metaKey(sweepId));
  } finally {
    redis.disconnect();
  }
  if (text === null) throw new ConfigError(`the queue holds no sweep with this id (list them with redis-cli --scan --pattern 'quantbook:sweep:*:meta')`, { key: '--resume', value: sweepId });
  return follow(url, JSON.parse(text) as SweepMeta, opts, true);
}

function jobOf(meta: SweepMeta, index: number): { name: string; data: SweepJobData; opts: { jobId: string; attempts: number; backoff: { type: 'fixed'; delay: number }; removeOnComplete: false; removeOnFail: false } } {
  return {
    name: meta.sweepId,
    data: {
      sweepId: meta.sweepId, index, name: meta.names[index], notebook: meta.notebookRel, notebookSha256: meta.notebookSha256,
      version: meta.version, parameters: { ...meta.fixed, ...meta.combos[index] }, cellTimeoutMs: meta.cellTimeoutMs, startTimeoutMs: meta.startTimeoutMs,
    },
    opts: { jobId: jobIdOf(meta.sweepId, index), attempts: meta.attempts, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false },
  };
}

/**
 * Writes a finished job's run into `<out>/runs/` as a local sweep would (`<name>.ipynb`,
 * `<name>.html` rendered here from the executed notebook, `<name>.run.json`), and returns its
 * summary. The three files go through one `OutputBatch`: they are renamed into place together
 * after all three were written, so a failed write (full disk, killed process) leaves no partial
 * set, only the previous files, if any, as they were.
 * @throws OutputError naming the file that could not be written.
 * @example recordCompleted(meta, 0, job.returnvalue).summary.status // 'ok'
 */
export function recordCompleted(meta: SweepMeta, index: number, rv: SweepJobResult): { summary: RunSummary; result: RunResult } {
  const nb = unpackNotebook(rv.notebookGz);
  const info = nb.metadata.quantbook as unknown as RunInfo;
  const name = meta.names[index];
  const result: RunResult = {
    info,
    notebook: nb,
    ...(info.failure ? { error: new NotebookError(info.failure.message, { file: meta.notebook, cell: info.failure.cell }) } : {}),
  };
  const runs = join(meta.outDir, 'runs');
  const summary = summaryOfResult({ name, notebook: meta.notebook, parameters: { ...meta.fixed, ...meta.combos[index] } }, result);
  const outputs = new OutputBatch();
  try {
    outputs.write(join(runs, `${name}.ipynb`), notebookText(nb));
    outputs.write(join(runs, `${name}.html`), renderReport(nb, { collapseCode: meta.collapseCode }));
    outputs.write(join(runs, `${name}.run.json`), summaryText(summary));
    outputs.commit();
  } finally {
    outputs.abort();
  }
  return { summary, result };
}

async function follow(url: string, meta: SweepMeta, opts: QueuedSweepOptions, enqueue: boolean): Promise<SweepResult & { sweepId: string }> {
  const { Queue, Job } = await import('bullmq');
  const connection = await connect(url);
  const queue = new Queue<SweepJobData, SweepJobResult>(QUEUE_NAME, { connection });
  const t0 = Date.parse(meta.createdAt);
  const total = meta.combos.length;
  try {
    const doneRaw = await connection.hgetall(doneKey(meta.sweepId));
    const done = new Map<number, RunSummary>(Object.entries(doneRaw).map(([k, v]) => [Number(k), JSON.parse(v) as RunSummary]));
    const pending = new Set(meta.combos.map((_, i) => i).filter((i) => !done.has(i)));
    // Idempotent: a job id already on the queue (running, waiting or finished) is not added again.
    if (enqueue && pending.size > 0) await queue.addBulk([...pending].map((i) => jobOf(meta, i)));
    opts.onQueued?.(meta.sweepId);
    const failedCount = () => [...done.values()].filter((s) => s.status !== 'ok').length;
    const report = (extra: Partial<QueuedProgress>, running: number) => opts.onProgress?.({
      sweepId: meta.sweepId, total, done: done.size, failed: failedCount(), running, elapsedMs: Date.now() - t0, ...extra,
    });
    let lastRunning = -1;
    while (pending.size > 0) {
      let running = 0;
      for (const index of [...pending]) {
        const job = await Job.fromId<SweepJobData, SweepJobResult>(queue, jobIdOf(meta.sweepId, index));
        if (!job) {
          // Gone from Redis (restarted without persistence, or removed by hand): run it again.
          await queue.add(jobOf(meta, index).name, jobOf(meta, index).data, jobOf(meta, index).opts);
          report({ requeued: index }, running);
          continue;
        }
        const state = await job.getState();
        if (state === 'active') running++;
        let summary: RunSummary | undefined;
        let result: RunResult | undefined;
        if (state === 'completed' && job.returnvalue) {
          ({ summary, result } = recordCompleted(meta, index, job.returnvalue));
        } else if (state === 'failed') {
          const started = job.processedOn ?? job.timestamp;
          summary = {
            name: meta.names[index], notebook: meta.notebook, parameters: { ...meta.fixed, ...meta.combos[index] }, status: 'failed',
            startTime: new Date(started).toISOString(), durationS: job.finishedOn ? (job.finishedOn - started) / 1000 : NaN, records: {},
            error: job.failedReason || 'the job failed',
          };
          writeSummary(join(meta.outDir, 'runs'), summary);
        }
        if (!summary) continue;
        // Recorded once: a combination that finished twice (a stalled job run again) keeps its first record.
        await connection.hsetnx(doneKey(meta.sweepId), String(index), JSON.stringify(summary));
        done.set(index, summary);
        pending.delete(index);
        opts.onRunDone?.(summary, result);
        report({ recorded: { index, summary } }, running);
      }
      if (running !== lastRunning) {
        lastRunning = running;
        report({}, running);
      }
      if (pending.size > 0) await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
    }
    const result: SweepResult & { sweepId: string } = {
      sweepId: meta.sweepId,
      notebook: meta.notebook,
      axes: meta.axes,
      fixed: meta.fixed,
      rows: meta.combos.map((combination, i) => ({ index: i + 1, combination, summary: done.get(i)! })),
      outDir: meta.outDir,
      durationS: (Date.now() - t0) / 1000,
    };
    writeSweepOutputs(result);
    // The results are on disk: the jobs' copies can go; the record of the sweep stays a week.
    for (let i = 0; i < total; i++) await queue.remove(jobIdOf(meta.sweepId, i)).catch(() => 0);
    await connection.expire(metaKey(meta.sweepId), 7 * 86400);
    await connection.expire(doneKey(meta.sweepId), 7 * 86400);
    return result;
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
