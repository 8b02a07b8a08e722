/**
 * The one-pass quantile graph shared by the `quantile` family (quantbook's own cards) and
 * `chronos-bolt`: contexts left-padded with NaN into float32[B, W], one ONNX run, output
 * float32[B, Q, H_card] checked and cut to the requested horizon. The two families differ
 * only in the context width W and in which input values they refuse; they pass those in.
 */
import * as ort from 'onnxruntime-node';
import { ModelError } from '../core/errors';
import type { QuantileCard } from './card';
import { samplesFromQuantiles } from './distribution';
import { checkHorizon, checkSamples, checkWindows, tail, toWindows } from './request';
import type { ModelSession } from './runtime';
import type { Forecast, ForecastRequest, ForecasterInfo, Tensor3 } from './types';

/** What the runner needs of a loaded quantile-graph model (both card kinds have these fields). */
export interface QuantileGraph {
  card: Pick<QuantileCard, 'name' | 'horizon' | 'quantileLevels' | 'inputs' | 'outputs'>;
  onnxPath: string;
  model: ModelSession;
  info: ForecasterInfo;
}

/** How a family lays out its context tensor. */
export interface QuantileContext {
  /** Width W of the context tensor for a batch whose longest window has `longest` values. */
  width(longest: number): number;
  /**
   * The error message for a context value the model cannot take, or undefined when it is fine.
   * `position` counts from the window's start, `window` is the window's index in the batch.
   */
  refuse(value: number, position: number, window: number): string | undefined;
}

/**
 * One ONNX run of the graph on `ctx` (float32[b, width], row-major).
 * @throws ModelError naming the ONNX file when onnxruntime fails.
 * @example await runQuantileGraph(g, new Float32Array(16).fill(1), 1, 16)
 */
export async function runQuantileGraph(g: QuantileGraph, ctx: Float32Array, b: number, width: number): Promise<ort.Tensor> {
  let result: ort.InferenceSession.ReturnType;
  try {
    result = await g.model.session.run({ [g.card.inputs[0].name]: new ort.Tensor('float32', ctx, [b, width]) });
  } catch (err) {
    throw new ModelError(`${g.card.name} failed to run: ${(err as Error).message.split('\n')[0]}`, { file: g.onnxPath }, { cause: err });
  }
  return result[g.card.outputs[0].name];
}

/**
 * Quantiles [B, Q, H] at the card's levels for the request's windows (and, with `samples: N`,
 * comonotone samples derived from them by `samplesFromQuantiles`), from one run of the graph.
 * Each window's last W values go right-aligned into its row; the rest is NaN (missing).
 * @throws ModelError on bad windows, a value `layout.refuse` names, a horizon beyond the card's,
 *   an output of another shape than [B, Q, H_card], or non-finite model output.
 * @example await forecastQuantileGraph(g, { width: () => 512, refuse: () => undefined }, { context, horizon: 8 })
 */
export async function forecastQuantileGraph(g: QuantileGraph, layout: QuantileContext, request: ForecastRequest): Promise<Forecast> {
  const t0 = performance.now();
  const windows = toWindows(request.context);
  checkHorizon(request.horizon, g.info);
  const nSamples = checkSamples(request.samples, 0);
  checkWindows(windows, g.info);
  const b = windows.length;
  const width = layout.width(Math.max(...windows.map((w) => w.length)));
  const ctx = new Float32Array(b * width).fill(NaN);
  windows.forEach((w, i) => {
    const t = tail(w, width);
    for (let j = 0; j < t.length; j++) {
      const v = t[j];
      const problem = layout.refuse(v, w.length - t.length + j, i);
      if (problem !== undefined) throw new ModelError(problem, { key: 'context', row: i, value: v });
      ctx[i * width + width - t.length + j] = v;
    }
  });
  const tm = performance.now();
  const out = await runQuantileGraph(g, ctx, b, width);
  const modelMs = performance.now() - tm;
  const levels = [...g.card.quantileLevels];
  const quantiles = sliceQuantiles(g, out, b, levels.length, request.horizon);
  const samples = nSamples > 0 ? samplesFromQuantiles(levels, quantiles, nSamples) : undefined;
  return {
    quantiles: { levels, values: quantiles },
    ...(samples ? { samples } : {}),
    meta: {
      model: g.card.name,
      family: 'quantile',
      device: g.model.device,
      batch: b,
      horizon: request.horizon,
      samples: nSamples,
      samplesFrom: samples ? 'quantiles' : 'none',
      timings: { totalMs: performance.now() - t0, modelMs, runs: 1 },
      fallback: { count: 0, forecaster: null, reasons: [] },
    },
  };
}

/** The first `horizon` steps of the output [b, q, H_card], as float64, after checking shape and finiteness. */
function sliceQuantiles(g: QuantileGraph, out: ort.Tensor, b: number, q: number, horizon: number): Tensor3 {
  const hFull = g.card.horizon;
  const dims = out.dims;
  if (dims.length !== 3 || dims[0] !== b || dims[1] !== q || dims[2] !== hFull) {
    throw new ModelError(`${g.card.name} returned shape [${dims.join(', ')}], the card promises [${b}, ${q}, ${hFull}]`, { file: g.onnxPath });
  }
  const data = out.data as Float32Array;
  const values = new Float64Array(b * q * horizon);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < q; j++) {
      for (let k = 0; k < horizon; k++) {
        const v = data[(i * q + j) * hFull + k];
        if (!Number.isFinite(v)) {
          throw new ModelError(`${g.card.name} produced ${v} for window ${i}, level ${j}, step ${k + 1}: the model or its input is broken`, {
            file: g.onnxPath,
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
