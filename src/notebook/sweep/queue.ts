/**
 * Sweeps on a BullMQ queue (Redis): what a job holds, how the coordinator and the workers
 * name things in Redis, and the project version a worker must match.
 *
 * Why BullMQ: it is the maintained job queue of the Node world, on Redis, with what a sweep
 * needs already built and tested: at-least-once delivery with locks that workers renew,
 * stalled-job detection (a job whose worker died goes back to the queue), retries with
 * back-off, idempotent job ids (a job added twice exists once), and results kept in Redis
 * until read. Redis persistence (AOF) makes an acknowledged result survive a Redis restart.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConfigError } from '../../core/errors';
import { VERSION } from '../../core/version';
import type { Notebook } from '../records/nbformat';
import type { Parameters } from '../records/run';
import type { GridAxis } from '../records/sweep';

/** The one BullMQ queue every sweep's jobs go through (a job names its sweep). */
export const QUEUE_NAME = 'quantbook-sweeps';

/** Redis key of a sweep's definition (JSON of {@link SweepMeta}). */
export const metaKey = (sweepId: string) => `quantbook:sweep:${sweepId}:meta`;
/** Redis hash of a sweep's recorded combinations: index -> RunSummary JSON. */
export const doneKey = (sweepId: string) => `quantbook:sweep:${sweepId}:done`;
/** BullMQ job id of a combination (ids may not hold ':'). */
export const jobIdOf = (sweepId: string, index: number) => `${sweepId}-${index}`;

/** What one job carries to a worker. */
export interface SweepJobData {
  sweepId: string;
  /** 0-based combination index. */
  index: number;
  /** Output base name of the combination. */
  name: string;
  /** Notebook path relative to the project root (the same on every machine). */
  notebook: string;
  /** sha256 of the notebook's bytes on the coordinator. */
  notebookSha256: string;
  /** {@link projectVersion} of the coordinator. */
  version: string;
  parameters: Parameters;
  cellTimeoutMs: number;
  startTimeoutMs: number;
}

/** What a worker returns: the executed notebook, gzipped JSON in base64. */
export interface SweepJobResult {
  status: 'ok' | 'failed';
  notebookGz: string;
  worker: string;
}

/** A sweep's definition, kept in Redis so a coordinator can resume it. */
export interface SweepMeta {
  sweepId: string;
  /** The notebook as the user named it (what local sweeps record). */
  notebook: string;
  notebookRel: string;
  notebookSha256: string;
  version: string;
  axes: GridAxis[];
  fixed: Parameters;
  combos: Parameters[];
  names: string[];
  outDir: string;
  attempts: number;
  cellTimeoutMs: number;
  startTimeoutMs: number;
  collapseCode: boolean;
  createdAt: string;
}

/**
 * Checks a `--queue` address: `redis://[user:pass@]host:port[/db]` (or `rediss://`).
 * @throws ConfigError naming `--queue` for anything else.
 * @example parseQueueUrl('redis://127.0.0.1:6379/2') // 'redis://127.0.0.1:6379/2'
 */
export function parseQueueUrl(url: string, flag = '--queue'): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`${flag} takes a Redis address like redis://127.0.0.1:6379/0`, { key: flag, value: url });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new ConfigError(`${flag} takes a redis:// or rediss:// address`, { key: flag, value: url });
  if (!u.hostname) throw new ConfigError(`${flag} names no host`, { key: flag, value: url });
  if (u.pathname && u.pathname !== '/' && !/^\/\d+$/.test(u.pathname)) throw new ConfigError(`${flag}: the path must be a database number (/0 .. /15)`, { key: flag, value: url });
  return url;
}

/** A Redis connection as BullMQ needs it (commands wait through reconnects instead of failing). */
export async function connect(url: string): Promise<import('ioredis').Redis> {
  const { Redis } = await import('ioredis');
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: (n) => Math.min(200 * n, 2000) });
}

let versionCache: string | undefined;

/**
 * The code a sweep runs: the library version, the git commit, and when the tree has
 * uncommitted changes a hash of them, e.g. `0.1.0+4e3560d2a1b0` or `0.1.0+4e3560d2a1b0.dirty-1f2e3d4c`.
 * Outside git, the version alone.
 * @example projectVersion() // '0.1.0+4e3560d2a1b0'
 */
export function projectVersion(root: string): string {
  if (versionCache !== undefined) return versionCache;
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 << 20 }).toString();
    const commit = git('rev-parse', 'HEAD').trim();
    const diff = git('diff', 'HEAD', '--', 'src', 'notebooks', 'package.json');
    versionCache = `${VERSION}+${commit.slice(0, 12)}${diff.length ? `.dirty-${createHash('sha256').update(diff).digest('hex').slice(0, 8)}` : ''}`;
  } catch {
    versionCache = VERSION;
  }
  return versionCache;
}

/** gzip + base64 of a notebook's JSON, for a job result. */
export function packNotebook(nb: Notebook): string {
  return gzipSync(Buffer.from(JSON.stringify(nb))).toString('base64');
}

/** The notebook a worker packed. */
export function unpackNotebook(data: string): Notebook {
  return JSON.parse(gunzipSync(Buffer.from(data, 'base64')).toString('utf8')) as Notebook;
}
