/**
 * Forecaster of the `chronos-bolt` family (amazon/chronos-bolt-* exported by
 * models/export/chronos_bolt.py): one forward pass maps raw values float32[B, T]
 * (NaN = missing, left-padded with NaN to a whole number of patches) to quantiles
 * float32[B, Q, P] at the card's levels, in the units of the context. The model's
 * instance normalisation runs inside the graph. Paths, when asked for, come from the
 * quantiles by the shared quantile-path rule (`samplesFromQuantiles`).
 */
import * as ort from 'onnxruntime-node';
import { ModelError } from '../../core/errors';
import type { ChronosBoltCard, LoadedCard } from '../card';
import { samplesFromQuantiles } from '../distribution';
import { checkHorizon, checkSamples, checkWindows, tail, toWindows } from '../request';
import type { ModelSession } from '../runtime';
import type { Forecast, ForecastRequest, Forecaster, ForecasterInfo, Tensor3 } from '../types';

/**
 * Width of the context tensor for windows of at most `longest` values: the longest window, capped
 * at `contextLength`, rounded up to a multiple of `patch` (at least one patch). Padding with NaN
 * is what Chronos-Bolt's own `Patch` does, so the numbers do not depend on it.
 * @example boltContextWidth(100, 2048, 16) // 112
 */
export function boltContextWidth(longest: number, contextLength: number, patch: number): number {
  const n = Math.min(Math.max(longest, 1), contextLength);
  return Math.ceil(n / patch) * patch;
}

export class ChronosBoltForecaster implements Forecaster {
  readonly info: ForecasterInfo;
  private readonly card: ChronosBoltCard;

  constructor(
    private readonly loaded: LoadedCard & { card: ChronosBoltCard },
    private readonly model: ModelSession,
  ) {
    this.card = loaded.card;
    this.info = {
      name: this.card.name,
      family: 'quantile',
      contextLength: this.card.contextLength,
      minContext: this.card.minContext,
      maxHorizon: this.card.horizon,
      quantileLevels: [...this.card.quantileLevels],
    };
  }

  /** One run on a window of one patch. */
  async warmUp(): Promise<void> {
    await this.run(new Float32Array(this.card.patchSize).fill(1), 1, this.card.patchSize);
  }

  /**
   * Quantiles [B, Q, H] at the card's levels (and, with `samples: N`, comonotone samples derived from them).
   * @throws ModelError on bad windows, an infinite value, a horizon beyond the card's, or non-finite model output.
   */
  async forecast(request: ForecastRequest): Promise<Forecast> {
    const t0 = performance.now();
    const windows = toWindows(request.context);
    checkHorizon(request.horizon, this.info);
    const nSamples = checkSamples(request.samples, 0);
    checkWindows(windows, this.info);
    const L = this.card.contextLength;
    const b = windows.length;
    const width = boltContextWidth(Math.max(...windows.map((w) => w.length)), L, this.card.patchSize);
    const ctx = new Float32Array(b * width).fill(NaN);
    windows.forEach((w, i) => {
      const t = tail(w, width);
      for (let j = 0; j < t.length; j++) {
        const v = t[j];
        if (v === Infinity || v === -Infinity) {
          throw new ModelError(`${this.card.name}: value ${v} at position ${w.length - t.length + j} of window ${i}: pass finite values or NaN for missing`, {
            key: 'context',
            row: i,
            value: v,
          });
        }
        ctx[i * width + width - t.length + j] = v;
      }
    });
    const tm = performance.now();
    const out = await this.run(ctx, b, width);
    const modelMs = performance.now() - tm;
    const levels = [...this.card.quantileLevels];
    const quantiles = this.slice(out, b, levels.length, request.horizon);
    const samples = nSamples > 0 ? samplesFromQuantiles(levels, quantiles, nSamples) : undefined;
    return {
      quantiles: { levels, values: quantiles },
      ...(samples ? { samples } : {}),
      meta: {
        model: this.card.name,
        family: 'quantile',
        device: this.model.device,
        batch: b,
        horizon: request.horizon,
        samples: nSamples,
        samplesFrom: samples ? 'quantiles' : 'none',
        timings: { totalMs: performance.now() - t0, modelMs, runs: 1 },
        fallback: { count: 0, forecaster: null, reasons: [] },
      },
    };
  }

  async close(): Promise<void> {
    // The session stays in the shared cache.
  }

  private async run(ctx: Float32Array, b: number, width: number): Promise<ort.Tensor> {
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.model.session.run({ [this.card.inputs[0].name]: new ort.Tensor('float32', ctx, [b, width]) });
    } catch (err) {
      throw new ModelError(`${this.card.name} failed to run: ${(err as Error).message.split('\n')[0]}`, { file: this.loaded.onnxPath }, { cause: err });
    }
    return result[this.card.outputs[0].name];
  }

  private slice(out: ort.Tensor, b: number, q: number, horizon: number): Tensor3 {
    const hFull = this.card.horizon;
    const dims = out.dims;
    if (dims.length !== 3 || dims[0] !== b || dims[1] !== q || dims[2] !== hFull) {
      throw new ModelError(`${this.card.name} returned shape [${dims.join(', ')}], the card promises [${b}, ${q}, ${hFull}]`, { file: this.loaded.onnxPath });
    }
    const data = out.data as Float32Array;
    const values = new Float64Array(b * q * horizon);
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < q; j++) {
        for (let k = 0; k < horizon; k++) {
          const v = data[(i * q + j) * hFull + k];
          if (!Number.isFinite(v)) {
            throw new ModelError(`${this.card.name} produced ${v} for window ${i}, level ${j}, step ${k + 1}: the model or its input is broken`, {
              file: this.loaded.onnxPath,
              row: i,
              value: v,
            });
          }
          values[(i * q + j) * horizon + k] = v;
        }
      }
    }
    return { data: values, dims: [b, q, horizon] };
  }
}
