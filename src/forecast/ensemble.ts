/**
 * Forecaster ensembles: several forecasters (models, baselines, volatility models) combined
 * into one, by quantile averaging (Vincentization: the ensemble's q-quantile is the weighted
 * mean of the members' q-quantiles) or as a mixture of their sampled paths (member k lends
 * round(w_k N) of the N paths, largest remainders first). Weights are given, or the inverse of
 * each member's validation score (CRPS or pct_return_mae), normalised to sum 1.
 */
import { ConfigError, ModelError } from '../core/errors';
import { evaluateWalkForward, type EvalOptions } from './evaluate';
import { quantilesFromSamples } from './distribution';
import { checkHorizon, checkSamples, toWindows } from './request';
import { DEFAULT_QUANTILE_LEVELS, tensor3, type Forecast, type ForecastRequest, type Forecaster, type ForecasterInfo } from './types';

/** How members are combined. */
export type EnsembleMode = 'quantiles' | 'mixture';

/**
 * Weights proportional to 1 / score (lower scores are better), normalised to sum 1.
 * @throws ConfigError when a score is not finite and positive.
 * @example inverseScoreWeights([1, 3]) // [0.75, 0.25]
 */
export function inverseScoreWeights(scores: readonly number[]): number[] {
  scores.forEach((s, i) => {
    if (!(s > 0 && Number.isFinite(s))) throw new ConfigError(`ensemble member ${i} has score ${s}: inverse-score weights need finite positive scores`, { key: 'weights', value: s });
  });
  const inv = scores.map((s) => 1 / s);
  const total = inv.reduce((a, b) => a + b, 0);
  return inv.map((v) => v / total);
}

/**
 * Inverse validation-score weights of `members`: each is evaluated walk-forward on the
 * validation series (closes on a bar grid) with the same options, and weighted by 1 / its
 * pooled CRPS (default) or pct_return_mae. Use series (or a part of them) that the scored
 * period does not include, or the weights look ahead.
 * @example await validationWeights([garch, historical], [validationCloses], { horizon: 6, every: 24, samples: 100 })
 */
export async function validationWeights(members: readonly Forecaster[], series: readonly Float64Array[], opts: EvalOptions & { metric?: 'crps' | 'pctReturnMae' }): Promise<number[]> {
  const metric = opts.metric ?? 'crps';
  const scores: number[] = [];
  for (const m of members) {
    let sum = 0;
    let n = 0;
    for (const closes of series) {
      const r = (await evaluateWalkForward(m, closes, opts)).result();
      const v = r[metric];
      if (Number.isFinite(v)) {
        sum += v * r.n;
        n += r.n;
      }
    }
    scores.push(n > 0 ? sum / n : NaN);
  }
  return inverseScoreWeights(scores);
}

/** Several forecasters as one. */
export class EnsembleForecaster implements Forecaster {
  readonly info: ForecasterInfo;
  readonly weights: number[];

  /**
   * @param members - the forecasters (at least one).
   * @param opts.weights - one per member, >= 0, not all 0 (normalised); default equal.
   * @param opts.mode - `quantiles` (default) or `mixture`.
   * @throws ConfigError on no members, weights of the wrong length or sign, or members bound to different quantile levels.
   */
  constructor(
    readonly members: readonly Forecaster[],
    opts: { weights?: readonly number[]; mode?: EnsembleMode } = {},
  ) {
    if (members.length === 0) throw new ConfigError('an ensemble needs at least one member', { key: 'ensemble' });
    const w = opts.weights ?? members.map(() => 1);
    if (w.length !== members.length || w.some((x) => !(x >= 0)) || !(w.reduce((a, b) => a + b, 0) > 0)) {
      throw new ConfigError(`ensemble weights must be ${members.length} non-negative numbers, not all 0`, { key: 'weights', value: w });
    }
    const total = w.reduce((a, b) => a + b, 0);
    this.weights = w.map((x) => x / total);
    this.mode = opts.mode ?? 'quantiles';
    const bound = members.map((m) => m.info.quantileLevels).filter((l): l is number[] => l !== null);
    if (bound.some((l) => l.join(',') !== bound[0].join(','))) throw new ConfigError('ensemble members are bound to different quantile levels', { key: 'ensemble' });
    const names = members.map((m, i) => `${m.info.name}*${+this.weights[i].toFixed(3)}`).join('+');
    this.info = {
      name: `${this.mode === 'mixture' ? 'mixture' : 'ensemble'}:${names}`,
      family: 'baseline',
      contextLength: Math.max(...members.map((m) => m.info.contextLength)),
      minContext: Math.max(...members.map((m) => m.info.minContext)),
      maxHorizon: Math.min(...members.map((m) => m.info.maxHorizon)),
      quantileLevels: bound[0] ?? null,
    };
  }

  readonly mode: EnsembleMode;

  /**
   * Every member forecasts the same request; quantiles are averaged (mixture mode with paths:
   * the quantiles of the mixed paths), paths are mixed.
   * @throws ModelError from a member, or when a member gives no quantiles.
   */
  async forecast(request: ForecastRequest): Promise<Forecast> {
    const t0 = performance.now();
    const B = toWindows(request.context).length;
    checkHorizon(request.horizon, this.info);
    const n = checkSamples(request.samples, 0);
    const H = request.horizon;
    const levels = [...(this.info.quantileLevels ?? request.quantileLevels ?? DEFAULT_QUANTILE_LEVELS)];
    const outs: Forecast[] = [];
    for (const m of this.members) outs.push(await m.forecast({ ...request, quantileLevels: levels, samples: n }));
    const samples = n > 0 && outs.every((o) => o.samples) ? tensor3(B, n, H) : undefined;
    if (samples) {
      const counts = pathCounts(this.weights, n);
      for (let b = 0; b < B; b++) {
        let row = 0;
        outs.forEach((o, k) => {
          const src = o.samples!;
          const N = src.dims[1];
          for (let j = 0; j < counts[k]; j++, row++) samples.data.set(src.data.subarray((b * N + (j % N)) * H, (b * N + (j % N) + 1) * H), (b * n + row) * H);
        });
      }
    }
    let quantiles = tensor3(B, levels.length, H);
    if (this.mode === 'mixture' && samples) quantiles = quantilesFromSamples(samples, levels);
    else {
      outs.forEach((o, k) => {
        const q = o.quantiles;
        if (!q || q.values.data.length !== quantiles.data.length) throw new ModelError(`ensemble member ${o.meta.model} gave no quantiles at levels ${levels.join(', ')}`, { key: 'ensemble' });
        for (let i = 0; i < quantiles.data.length; i++) quantiles.data[i] += this.weights[k] * q.values.data[i];
      });
    }
    const fallback = { count: 0, forecaster: null as string | null, reasons: [] as string[] };
    outs.forEach((o) => {
      fallback.count += o.meta.fallback.count;
      fallback.reasons.push(...o.meta.fallback.reasons.map((r) => `${o.meta.model}: ${r}`));
      fallback.forecaster ??= o.meta.fallback.forecaster;
    });
    return {
      quantiles: { levels, values: quantiles },
      ...(samples ? { samples } : {}),
      meta: {
        model: this.info.name,
        family: 'baseline',
        device: outs.every((o) => o.meta.device === outs[0].meta.device) ? outs[0].meta.device : 'none',
        batch: B,
        horizon: H,
        samples: samples ? n : 0,
        samplesFrom: samples ? 'model' : 'none',
        ...(samples ? { samplesMethod: `mixture of the members' paths (${pathCounts(this.weights, n).join(' + ')} of ${n})` } : {}),
        timings: {
          totalMs: performance.now() - t0,
          modelMs: outs.reduce((a, o) => a + o.meta.timings.modelMs, 0),
          runs: outs.reduce((a, o) => a + o.meta.timings.runs, 0),
        },
        fallback,
      },
    };
  }

  async close(): Promise<void> {
    for (const m of this.members) await m.close();
  }
}

/**
 * Paths per member: floor(w_k N), then one more to the largest remainders until N.
 * @example pathCounts([0.5, 0.25, 0.25], 10) // [5, 3, 2]
 */
export function pathCounts(weights: readonly number[], n: number): number[] {
  const raw = weights.map((w) => w * n);
  const counts = raw.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = raw.map((r, k) => [r - Math.floor(r), k] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let i = 0; left > 0; i = (i + 1) % order.length, left--) counts[order[i][1]]++;
  return counts;
}

/**
 * Parses `ensemble:a+b` / `mixture:a*0.7+b*0.3` into members and weights (names are model
 * cards or forecaster names; weights default to equal), or null when `spec` is no ensemble.
 * @throws ConfigError on an empty member or a bad weight.
 * @example parseEnsembleSpec('ensemble:garch*2+historical') // { mode: 'quantiles', members: ['garch', 'historical'], weights: [2, 1] }
 */
export function parseEnsembleSpec(spec: string): { mode: EnsembleMode; members: string[]; weights: number[] } | null {
  const m = /^(ensemble|mixture):(.*)$/.exec(spec);
  if (!m) return null;
  const parts = m[2].split('+').map((s) => s.trim());
  const members: string[] = [];
  const weights: number[] = [];
  for (const p of parts) {
    const star = p.lastIndexOf('*');
    const name = star >= 0 ? p.slice(0, star).trim() : p;
    const w = star >= 0 ? Number(p.slice(star + 1)) : 1;
    if (!name || !(w >= 0)) throw new ConfigError(`bad ensemble member "${p}": use NAME or NAME*WEIGHT, joined by +`, { key: 'model', value: spec });
    members.push(name);
    weights.push(w);
  }
  return { mode: m[1] === 'mixture' ? 'mixture' : 'quantiles', members, weights };
}
