/**
 * The configured fallback forecaster: used when the model is missing or fails, or
 * a window is shorter than the model needs. Every use is counted in the forecast's
 * `meta.fallback` (and in `fallbacksUsed`), with the window and the reason.
 */
import { ModelError } from '../core/errors';
import { DEFAULT_AR_SAMPLES } from './autoregressive';
import { checkHorizon, toWindows, windowProblem } from './request';
import { DEFAULT_QUANTILE_LEVELS, isSamplingFamily, tensor3, type Forecast, type ForecastRequest, type Forecaster, type ForecasterInfo, type Tensor3, type WindowArrays } from './types';

export class FallbackForecaster implements Forecaster {
  readonly info: ForecasterInfo;
  private used = 0;

  /**
   * @param primary - the model, or null when it could not be opened (`unavailable` says why).
   * @param fallback - the forecaster used instead (usually a baseline).
   */
  constructor(
    private readonly primary: Forecaster | null,
    private readonly fallback: Forecaster,
    private readonly unavailable: string | null = null,
  ) {
    const p = primary?.info;
    this.info = {
      name: p ? p.name : `${fallback.info.name} (fallback)`,
      family: p ? p.family : fallback.info.family,
      contextLength: p ? Math.max(p.contextLength, fallback.info.contextLength) : fallback.info.contextLength,
      minContext: fallback.info.minContext,
      maxHorizon: p ? p.maxHorizon : fallback.info.maxHorizon,
      quantileLevels: p ? p.quantileLevels : fallback.info.quantileLevels,
    };
  }

  /** Windows forecast by the fallback since this forecaster was made. */
  get fallbacksUsed(): number {
    return this.used;
  }

  /**
   * Forecasts with the model where it can, the fallback elsewhere, and merges them in window order.
   * @throws ModelError on a bad horizon, NaN-only windows, or when the fallback fails too.
   */
  async forecast(request: ForecastRequest): Promise<Forecast> {
    const t0 = performance.now();
    const windows = toWindows(request.context);
    checkHorizon(request.horizon, this.info);
    const levels = [...(this.info.quantileLevels ?? request.quantileLevels ?? DEFAULT_QUANTILE_LEVELS)];
    const samples = request.samples ?? (isSamplingFamily(this.info.family) ? DEFAULT_AR_SAMPLES : 0);
    const reasons: string[] = [];
    const toModel: number[] = [];
    const toFallback: number[] = [];
    windows.forEach((w, i) => {
      const problem = this.primary ? windowProblem(w, this.primary.info.minContext) : null;
      if (problem?.kind === 'empty') throw new ModelError(`${this.info.name}: ${problem.message}`, { key: 'context', row: i });
      if (!this.primary) {
        toFallback.push(i);
        reasons.push(`window ${i}: model unavailable (${this.unavailable})`);
      } else if (problem) {
        toFallback.push(i);
        reasons.push(`window ${i}: ${problem.message}`);
      } else toModel.push(i);
    });
    const hl = request.contextHighLow ? { high: toWindows(request.contextHighLow.high), low: toWindows(request.contextHighLow.low) } : undefined;
    const cb = request.contextBars;
    const pick = (a: WindowArrays, idx: number[]): Float64Array[] => {
      const list = toWindows(a);
      return idx.map((i) => list[i]);
    };
    const sub = (idx: number[]): ForecastRequest => ({
      ...request,
      context: idx.map((i) => windows[i]),
      future: request.future ? idx.map((i) => request.future![i]) : undefined,
      origins: request.origins ? idx.map((i) => request.origins![i]) : undefined,
      contextHighLow: hl ? { high: idx.map((i) => hl.high[i]), low: idx.map((i) => hl.low[i]) } : undefined,
      contextBars: cb
        ? { timeMs: pick(cb.timeMs, idx), open: pick(cb.open, idx), high: pick(cb.high, idx), low: pick(cb.low, idx),
          ...(cb.volume ? { volume: pick(cb.volume, idx) } : {}) }
        : undefined,
      samples,
      quantileLevels: levels,
    });
    let modelOut: Forecast | null = null;
    if (this.primary && toModel.length > 0) {
      try {
        modelOut = await this.primary.forecast(sub(toModel));
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        for (const i of toModel) reasons.push(`window ${i}: model failed (${why})`);
        toFallback.push(...toModel.splice(0));
        toFallback.sort((a, b) => a - b);
      }
    }
    const fbOut = toFallback.length > 0 ? await this.fallback.forecast(sub(toFallback)) : null;
    this.used += toFallback.length;
    const first = (modelOut ?? fbOut)!;
    const H = request.horizon;
    const quantiles = tensor3(windows.length, levels.length, H);
    const paths = samples > 0 ? tensor3(windows.length, samples, H) : undefined;
    const parts = [[modelOut, toModel], [fbOut, toFallback]] as const;
    // Sampled highs and lows survive the merge only when every part that ran has them.
    const withRanges = paths && parts.every(([out]) => !out || out.samplesHighLow);
    const ranges = withRanges ? { high: tensor3(windows.length, samples, H), low: tensor3(windows.length, samples, H) } : undefined;
    for (const [out, idx] of parts) {
      if (!out) continue;
      scatter(out.quantiles!.values, quantiles, idx);
      if (paths) scatter(out.samples!, paths, idx);
      if (ranges && out.samplesHighLow) {
        scatter(out.samplesHighLow.high, ranges.high, idx);
        scatter(out.samplesHighLow.low, ranges.low, idx);
      }
    }
    return {
      quantiles: { levels, values: quantiles },
      ...(paths ? { samples: paths } : {}),
      ...(ranges ? { samplesHighLow: ranges } : {}),
      meta: {
        ...first.meta,
        batch: windows.length,
        timings: {
          totalMs: performance.now() - t0,
          modelMs: (modelOut?.meta.timings.modelMs ?? 0) + (fbOut?.meta.timings.modelMs ?? 0),
          runs: (modelOut?.meta.timings.runs ?? 0) + (fbOut?.meta.timings.runs ?? 0),
        },
        fallback: { count: toFallback.length, forecaster: this.fallback.info.name, reasons },
      },
    };
  }

  async close(): Promise<void> {
    await this.primary?.close();
    await this.fallback.close();
  }
}

/** Copies rows [k] of a [b', X, H] tensor to rows idx[k] of a [B, X, H] tensor. */
function scatter(src: Tensor3, dst: Tensor3, idx: number[]): void {
  const block = dst.dims[1] * dst.dims[2];
  if (src.dims[1] * src.dims[2] !== block) {
    throw new ModelError(`fallback output of shape [${src.dims.join(', ')}] cannot merge with [${dst.dims.join(', ')}]`, { key: 'fallback' });
  }
  idx.forEach((to, from) => dst.data.set(src.data.subarray(from * block, (from + 1) * block), to * block));
}
