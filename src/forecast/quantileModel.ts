/**
 * Forecaster of the `quantile` family (Chronos-Bolt style): one forward pass maps
 * context float32[B, L] (NaN = missing, left-padded when shorter) to quantiles
 * float32[B, Q, H] at the card's levels.
 */
import * as ort from 'onnxruntime-node';
import { ModelError } from '../core/errors';
import type { LoadedCard, QuantileCard } from './card';
import { samplesFromQuantiles } from './distribution';
import { checkHorizon, checkSamples, checkWindows, tail, toWindows } from './request';
import type { ModelSession } from './runtime';
import type { Forecast, ForecastRequest, Forecaster, ForecasterInfo, Tensor3 } from './types';

export class QuantileModelForecaster implements Forecaster {
  readonly info: ForecasterInfo;
  private readonly card: QuantileCard;

  constructor(
    private readonly loaded: LoadedCard & { card: QuantileCard },
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

  /** One run on a constant window, so the first real call does not pay for allocation and kernel choice. */
  warmUp(): Promise<void> {
    const ctx = new Float32Array(this.card.contextLength).fill(1);
    return this.run(ctx, 1).then(() => undefined);
  }

  /**
   * Quantiles [B, Q, H] at the card's levels (and, with `samples: N`, comonotone samples
   * derived from them).
   * @throws ModelError on bad windows, a horizon beyond the card's, non-positive prices, or
   *   non-finite model output.
   */
  async forecast(request: ForecastRequest): Promise<Forecast> {
    const t0 = performance.now();
    const windows = toWindows(request.context);
    checkHorizon(request.horizon, this.info);
    const nSamples = checkSamples(request.samples, 0);
    checkWindows(windows, this.info);
    const L = this.card.contextLength;
    const b = windows.length;
    const ctx = new Float32Array(b * L).fill(NaN);
    windows.forEach((w, i) => {
      const t = tail(w, L);
      for (let j = 0; j < t.length; j++) {
        const v = t[j];
        if (v <= 0) {
          throw new ModelError(`${this.card.name} takes log prices: close ${v} at position ${w.length - t.length + j} is not positive`, {
            key: 'context',
            row: i,
            value: v,
          });
        }
        ctx[i * L + L - t.length + j] = v;
      }
    });
    const tm = performance.now();
    const out = await this.run(ctx, b);
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
    // The session stays in the shared cache for other forecasters of this model.
  }

  private async run(ctx: Float32Array, b: number): Promise<ort.Tensor> {
    const input = this.card.inputs[0].name;
    const output = this.card.outputs[0].name;
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.model.session.run({ [input]: new ort.Tensor('float32', ctx, [b, this.card.contextLength]) });
    } catch (err) {
      throw new ModelError(`${this.card.name} failed to run: ${(err as Error).message.split('\n')[0]}`, { file: this.loaded.onnxPath }, { cause: err });
    }
    return result[output];
  }

  private slice(out: ort.Tensor, b: number, q: number, horizon: number): Tensor3 {
    const hFull = this.card.horizon;
    const dims = out.dims;
    if (dims.length !== 3 || dims[0] !== b || dims[1] !== q || dims[2] !== hFull) {
      throw new ModelError(`${this.card.name} returned shape [${dims.join(', ')}], the card promises [${b}, ${q}, ${hFull}]`, {
        file: this.loaded.onnxPath,
      });
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
