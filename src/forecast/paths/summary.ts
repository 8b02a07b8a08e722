/**
 * The outlook as files and text: the `pred_summary` JSON object, the paths CSV,
 * and the printed summary.
 */
import { formatDuration } from '../../data/interval';
import type { PathOutlook } from './pathOutlook';
import type { PreparedOutlook } from './prepare';
import type { PathDistribution, PathStats } from './stats';
import type { ForecastMeta } from '../types';

/** Run facts the outlook itself does not know. */
export interface SummaryContext {
  symbol: string;
  /** The model card path or baseline name as given. */
  modelRef: string;
  session: string;
  /** How the session was chosen: given, read from the data, from the instrument class, or the default; and why. */
  sessionChoice?: SessionChoice;
  lookback: number;
  contextLength: number;
  samples: number;
  horizon: number;
  seed: number;
  dataFile: string;
  /** Milliseconds per stage (`loadMs`, `sampleMs`, ...), `totalMs` end to end, `cpuMs` process CPU. */
  timings: Record<string, number>;
  files?: Record<string, string>;
  version?: string;
}

/** How the forecast's session was chosen, and why, in words. */
export interface SessionChoice {
  source: 'given' | 'data' | 'class' | 'default';
  reason: string;
}

/** The statistics the summary carries as they are (see {@link PathStats} for their definitions). */
type SummaryStats = Pick<PathStats, 'pUp' | 'pDown' | 'pFlat' | 'pUpStdError' | 'expReturn' | 'expReturnStdError' | 'extremesFrom' | 'barriers' | 'drawdown' | 'favourableExcursion'>;

/**
 * The `pred_summary_<SYMBOL>_<timestamp>.json` object (schema `quantbook.pred-summary/1`).
 * Returns, drawdowns and excursions are fractions of the current close.
 */
export interface OutlookSummary extends SummaryStats {
  schema: 'quantbook.pred-summary/1';
  symbol: string;
  /** Close time of the current bar (the forecast origin), ISO 8601 UTC. */
  asOf: string;
  lastBarOpen: string;
  currentClose: number;
  barInterval: string;
  session: string;
  /** How `session` was chosen and why; null when the caller did not say. */
  sessionChoice: SessionChoice | null;
  model: {
    ref: string;
    name: string;
    family: string;
    device: string;
    pathSource: PathOutlook['pathSource'];
    pathMethod: string;
    fallback: { count: number; forecaster: string | null; reasons: string[] };
    /** What a calibration wrapper did (`--calibrate conformal`), absent otherwise. */
    calibration?: ForecastMeta['calibration'];
  };
  samples: number;
  horizon: number;
  /** Sampler settings used (autoregressive models); null for forecasters that have none. */
  temperature: number | null;
  topP: number | null;
  topK: number | null;
  seed: number;
  lookback: { requested: number; used: number; modelContext: number };
  vwap: number | null;
  pHitVwap: number | null;
  midband: number | null;
  pRetraceMidband: number | null;
  bollinger: { window: number; upper: number | null; lower: number | null };
  /** Open times of the forecast bars (ISO UTC). */
  stepTimes: string[];
  /** Per-step close percentiles: `values[k][h]` is level `levels[k]` at step h + 1. */
  bands: { levels: number[]; values: number[][] };
  meanPath: number[];
  quiet: boolean;
  quietWindows: { label: string; start: string; end: string }[];
  data: {
    file: string;
    first: string;
    last: string;
    bars: number;
    barsInSession: number;
    outsideSession: number;
    featureSessions: number;
    featureFrom: string;
    contextFrom: string;
    contextMissing: number;
  };
  timings: Record<string, number>;
  notes: string[];
  files: Record<string, string>;
  version: string | null;
  createdAt: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
const round = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Builds the summary object from a prepared series, its outlook and the run's facts.
 * @example outlookSummary(prepared, outlook, ctx).pUp // the share of paths ending up
 */
export function outlookSummary(prepared: PreparedOutlook, outlook: PathOutlook, ctx: SummaryContext): OutlookSummary {
  const { stats, meta } = outlook;
  const sampling = meta.sampling;
  return {
    schema: 'quantbook.pred-summary/1',
    symbol: ctx.symbol,
    asOf: iso(prepared.asOfMs),
    lastBarOpen: iso(prepared.lastOpenMs),
    currentClose: prepared.current.close,
    barInterval: formatDuration(prepared.barMs),
    session: ctx.session,
    sessionChoice: ctx.sessionChoice ?? null,
    model: { ref: ctx.modelRef, name: meta.model, family: meta.family, device: meta.device, pathSource: outlook.pathSource, pathMethod: outlook.pathMethod,
      fallback: meta.fallback, ...(meta.calibration ? { calibration: meta.calibration } : {}) },
    samples: ctx.samples,
    horizon: ctx.horizon,
    temperature: sampling?.temperature ?? null,
    topP: sampling?.topP ?? null,
    topK: sampling?.topK ?? null,
    seed: ctx.seed,
    lookback: { requested: ctx.lookback, used: prepared.lookbackUsed, modelContext: ctx.contextLength },
    pUp: stats.pUp,
    pDown: stats.pDown,
    pFlat: stats.pFlat,
    pUpStdError: stats.pUpStdError,
    expReturn: stats.expReturn,
    expReturnStdError: stats.expReturnStdError,
    vwap: orNull(prepared.vwap),
    pHitVwap: outlook.pHitVwap,
    midband: orNull(prepared.midband),
    pRetraceMidband: outlook.pRetraceMidband,
    bollinger: { window: prepared.bollingerWindow, upper: orNull(prepared.bollingerUpper), lower: orNull(prepared.bollingerLower) },
    extremesFrom: stats.extremesFrom,
    barriers: stats.barriers,
    stepTimes: Array.from(outlook.stepTimes, iso),
    bands: { levels: stats.bands.levels, values: stats.bands.values.map((v) => Array.from(v)) },
    meanPath: Array.from(stats.meanPath),
    drawdown: stats.drawdown,
    favourableExcursion: stats.favourableExcursion,
    quiet: outlook.quiet,
    quietWindows: outlook.quietWindows.map((w) => ({ label: w.label, start: iso(w.startMs), end: iso(w.endMs) })),
    data: {
      file: ctx.dataFile,
      first: iso(prepared.span.first),
      last: iso(prepared.span.last),
      bars: prepared.counts.bars,
      barsInSession: prepared.counts.barsInSession,
      outsideSession: prepared.counts.outsideSession,
      featureSessions: prepared.features.sessions,
      featureFrom: iso(prepared.features.ts[0]),
      contextFrom: iso(prepared.context.ts[0]),
      contextMissing: prepared.context.missing,
    },
    timings: Object.fromEntries(Object.entries(ctx.timings).map(([k, v]) => [k, round(v)])),
    notes: outlook.notes,
    files: ctx.files ?? {},
    version: ctx.version ?? null,
    createdAt: new Date().toISOString(),
  };
}

/**
 * `YYYYMMDDTHHMMSSZ` of an instant, for file names.
 * @example fileStamp(Date.parse('2024-08-29T03:30:00Z')) // '20240829T033000Z'
 */
export function fileStamp(ms: number): string {
  return iso(ms).slice(0, 19).replace(/[-:]/g, '') + 'Z';
}

/**
 * The paths as CSV: one row per path, `path,close_1..close_H` and, when sampled, `high_1..high_H,low_1..low_H`.
 * Numbers are written in shortest round-trip form.
 * @example pathsCsv({ close: Float64Array.of(1, 2), n: 1, horizon: 2 }) // 'path,close_1,close_2\n0,1,2\n'
 */
export function pathsCsv(paths: { close: Float64Array; high?: Float64Array; low?: Float64Array; n: number; horizon: number }): string {
  const { n, horizon } = paths;
  const blocks: [string, Float64Array][] = [['close', paths.close]];
  if (paths.high && paths.low) blocks.push(['high', paths.high], ['low', paths.low]);
  const header = ['path', ...blocks.flatMap(([name]) => Array.from({ length: horizon }, (_, h) => `${name}_${h + 1}`))];
  const lines = [header.join(',')];
  for (let j = 0; j < n; j++) {
    const row: (string | number)[] = [j];
    for (const [, arr] of blocks) for (let h = 0; h < horizon; h++) row.push(arr[j * horizon + h]);
    lines.push(row.join(','));
  }
  return `${lines.join('\n')}\n`;
}

const pct = (x: number | null, digits = 2): string => (x === null ? 'n/a' : `${(100 * x).toFixed(digits)}%`);
const signedPct = (x: number, digits = 3): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(digits)}%`;
const prob = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(3));
const price = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(2) : x.toPrecision(6));

/**
 * The printed summary: a few lines a trader reads at a glance.
 * @example formatOutlookSummary(summary).split('\n')[0] // 'BTC  1m outlook  as of 2017-11-14T23:00:00.000Z ...'
 */
export function formatOutlookSummary(s: OutlookSummary): string {
  const sampler = s.temperature === null ? 'no sampler settings' : `temperature ${s.temperature}, top-k ${s.topK || 'off'}, top-p ${s.topP}`;
  const lines = [
    `${s.symbol}  ${s.barInterval} outlook  as of ${s.asOf} (session ${s.session})  close ${price(s.currentClose)}`,
    ...(s.sessionChoice ? [`session ${s.session}: ${s.sessionChoice.reason}`] : []),
    `model ${s.model.name} (${s.model.family}, device ${s.model.device}): ${s.samples} paths x ${s.horizon} bars, ${sampler}, seed ${s.seed}`,
    `  paths: ${s.model.pathMethod}`,
    ...(s.model.calibration ? [`  calibrated: ${s.model.calibration.method}, gamma ${s.model.calibration.gamma}, ${s.model.calibration.updates} updates from ${s.model.calibration.warmUp} warm-up origins`] : []),
    `  P(up) ${prob(s.pUp)} +- ${prob(s.pUpStdError)} (MC s.e.)   P(down) ${prob(s.pDown)}   P(flat) ${prob(s.pFlat)}`,
    `  E[return] ${signedPct(s.expReturn)} +- ${pct(s.expReturnStdError, 3)}`,
  ];
  for (const b of s.barriers) {
    const label = b.name === 'vwap' ? 'P(hit VWAP)' : b.name === 'midband' ? 'P(retrace to mid-band)' : `P(touch ${b.name})`;
    const when = b.medianFirstHitStep === null ? '' : `, median first touch at step ${b.medianFirstHitStep}`;
    lines.push(`  ${label} ${prob(b.pHit)} +- ${prob(b.pHitStdError)}  (level ${price(b.price)}, ${signedPct(b.distance)}, ${b.side}${when})`);
  }
  if (s.pHitVwap === null) lines.push('  P(hit VWAP) n/a (VWAP undefined)');
  if (s.pRetraceMidband === null) lines.push('  P(retrace to mid-band) n/a (middle band undefined)');
  lines.push(`  touches and excursions from ${s.extremesFrom === 'highLow' ? 'sampled highs and lows' : 'closes only (lower bounds)'}`);
  const H = s.horizon;
  const steps = [...new Set([1, Math.ceil(H / 2), H])];
  const levels = s.bands.levels.map((l) => `p${+(100 * l).toFixed(2)}`).join('/');
  for (const h of steps) {
    lines.push(`  step ${String(h).padStart(3)} ${s.stepTimes[h - 1].slice(0, 16)}Z  ${levels}: ${s.bands.values.map((v) => price(v[h - 1])).join(' / ')}`);
  }
  const dist = (d: PathDistribution) => d.levels.map((l, i) => `p${+(100 * l).toFixed(2)} ${pct(d.values[i], 3)}`).join('  ');
  lines.push(`  drawdown from entry: mean ${pct(s.drawdown.mean, 3)}  ${dist(s.drawdown)}`);
  lines.push(`  favourable excursion: mean ${pct(s.favourableExcursion.mean, 3)}  ${dist(s.favourableExcursion)}`);
  lines.push(`  quiet: ${s.quiet ? `yes (${s.quietWindows.map((w) => w.label).join(', ')})` : 'no'}`);
  lines.push(`data ${s.data.file}: ${s.data.bars} bars ${s.data.first} .. ${s.data.last}; context ${s.lookback.used} bars from ${s.data.contextFrom} (${s.data.contextMissing} missing)`);
  const t = s.timings;
  const order = ['loadMs', 'prepareMs', 'openModelMs', 'sampleMs', 'summariseMs', 'writeMs'];
  const parts = order.filter((k) => k in t).map((k) => `${k.replace(/Ms$/, '')} ${t[k].toFixed(0)}`);
  const extra = Object.keys(t).filter((k) => !order.includes(k) && k !== 'totalMs' && k !== 'cpuMs');
  lines.push(`latency (ms): ${parts.join(', ')}; total ${(t.totalMs ?? 0).toFixed(0)}${'cpuMs' in t ? ` (cpu ${t.cpuMs.toFixed(0)})` : ''}${extra.map((k) => `; ${k.replace(/Ms$/, '')} ${t[k].toFixed(0)}`).join('')}`);
  for (const n of s.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
