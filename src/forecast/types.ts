/**
 * The Forecast contract and the forecaster interface shared by models and baselines.
 *
 * Every forecaster (an ONNX model of either family, a baseline, a fallback
 * wrapper) turns B windows of closes into one `Forecast`; callers never need to
 * know which kind produced it.
 */

/** A dense row-major 3-D array: element (i, j, k) is `data[(i * dims[1] + j) * dims[2] + k]`. */
export interface Tensor3 {
  data: Float64Array;
  dims: [number, number, number];
}

/** Where a forecast ran. `none` for baselines (no ONNX session). */
export type ResolvedDevice = 'cpu' | 'cuda' | 'none';

/** The device asked for: `auto` uses CUDA when its execution provider loads, else the CPU. */
export type Device = 'auto' | 'cpu' | 'cuda';

/** Key/value cache use of autoregressive models; `auto` picks per device (cache on CPU, recompute on CUDA). */
export type KvCacheMode = 'auto' | 'cache' | 'recompute';

/** Sampler settings of autoregressive models (Chronos / Kronos conventions). */
export interface SamplingOptions {
  /** Softmax temperature; 0 means greedy (argmax). Default 1. */
  temperature: number;
  /** Keep only the k most likely tokens; 0 disables. Applied before topP. Default 0. */
  topK: number;
  /** Keep the smallest set of tokens whose probability reaches p (nucleus); 1 disables. Default 1. */
  topP: number;
  /** Paths decoded together in one batch per step (rows of one ONNX run). Default 256. */
  samplesPerBatch: number;
  /** Key/value cache or full re-run of the sequence at each step. Default `auto`. */
  kvCache: KvCacheMode;
}

/** One forecast call: B windows of closes, oldest first, each ending at the forecast origin. */
export interface ForecastRequest {
  /** One window or B windows of closes. NaN marks a missing bar. Windows may differ in length. */
  context: Float64Array | readonly Float64Array[];
  /** Steps ahead (bars), 1..the forecaster's `maxHorizon`. */
  horizon: number;
  /** Sampled paths per window (N); 0 for quantiles only. Default 0 for quantile models and baselines, 100 for autoregressive models. */
  samples?: number;
  /** Seed of the path sampler; same request and seed give identical numbers. Default 0. */
  seed?: number;
  /** Quantile levels wanted from forecasters that are not bound to a card's levels. Default 0.1..0.9. */
  quantileLevels?: readonly number[];
  /** Sampler overrides for autoregressive models. */
  sampling?: Partial<SamplingOptions>;
  /** The realised future closes, one per window: read only by the `oracle` baseline, in evaluation. */
  future?: readonly Float64Array[];
  /**
   * Highs and lows of the context bars, aligned with `context` (same windows, same lengths; NaN
   * where a bar is missing). Forecasters that sample whole bars (the `historical` baseline) then
   * return `samplesHighLow`; the others ignore them.
   */
  contextHighLow?: { high: Float64Array | readonly Float64Array[]; low: Float64Array | readonly Float64Array[] };
  /**
   * Where each window ends: a stream (e.g. the symbol) and the bar index of the window's last
   * close on that stream, one per window. Read only by stateful wrappers that learn from
   * outcomes once they are known (the conformal layer); others ignore it.
   */
  origins?: readonly { stream: string; t: number }[];
  /**
   * Whole bars of the context, aligned with `context` (same windows, same lengths, NaN where a bar
   * is missing): bar open times in ms UTC, opens, highs, lows and, where known, volumes. Read by
   * forecasters whose model takes bars (Kronos: OHLCV and time features); others ignore them.
   */
  contextBars?: ContextBars;
}

/** One array per window (or one array for one window), each aligned with the window's closes. */
export type WindowArrays = Float64Array | readonly Float64Array[];

/** Bars of the context windows beyond the closes; see `ForecastRequest.contextBars`. */
export interface ContextBars {
  timeMs: WindowArrays;
  open: WindowArrays;
  high: WindowArrays;
  low: WindowArrays;
  /** Absent when the data has no volume (Kronos then feeds volume and amount 0, as its predictor does). */
  volume?: WindowArrays;
}

/** How a fallback was used in one forecast call. */
export interface FallbackUse {
  /** Windows of this call forecast by the fallback (0 when none). */
  count: number;
  /** Name of the fallback forecaster, or null when none is configured. */
  forecaster: string | null;
  /** One line per use: window index and why. */
  reasons: string[];
}

/** What produced a forecast and how long it took. */
export interface ForecastMeta {
  /** Card name of the model, or the baseline's name. */
  model: string;
  family: 'quantile' | 'autoregressive' | 'kronos' | 'toto' | 'baseline';
  device: ResolvedDevice;
  /** Windows in the call (B). */
  batch: number;
  horizon: number;
  /** Paths per window (N), 0 when none. */
  samples: number;
  /** How the samples were made: by the model, by bootstrap, from quantiles (comonotone), or not at all. */
  samplesFrom: 'model' | 'bootstrap' | 'normal' | 'quantiles' | 'oracle' | 'none';
  /**
   * How the samples were drawn, in words, where `samplesFrom` alone does not say: the historical
   * baseline's bootstrap rule (`iid draws`, `stationary blocks (mean length 10)`). Set by the
   * forecaster that drew them; wrappers (the fallback) pass it through. Absent when there is nothing to add.
   */
  samplesMethod?: string;
  timings: {
    /** Wall time of the whole call, ms. */
    totalMs: number;
    /** Time inside onnxruntime, ms (0 for baselines). */
    modelMs: number;
    /** ONNX runs made (autoregressive: one per step per batch). */
    runs: number;
  };
  /** The sampler settings and cache mode actually used (autoregressive only). */
  sampling?: SamplingOptions & { kvCache: 'cache' | 'recompute'; seed: number };
  fallback: FallbackUse;
  /** Set by a calibration wrapper (the conformal layer): what it adjusted; see `ConformalMeta`. */
  calibration?: {
    method: string;
    gamma: number;
    warmUp: number;
    levels: number[];
    /** Effective level used per nominal level and step, first window of the call. */
    effective: number[][];
    updates: number;
    skippedMissing: number;
  };
}

/**
 * The output of every forecaster. Prices are in the units of the context.
 * `quantiles.values` is [B, Q, H]; `samples` is [B, N, H] (closes of sampled
 * paths, step 1..H). Highs and lows are not sampled by the shipped models (the
 * autoregressive model tokenizes closes only); the `historical` baseline samples
 * them when the request carries `contextHighLow`.
 */
export interface Forecast {
  quantiles?: { levels: number[]; values: Tensor3 };
  samples?: Tensor3;
  /** Highs and lows of the sampled bars, [B, N, H] each, aligned with `samples`; low <= close <= high. */
  samplesHighLow?: { high: Tensor3; low: Tensor3 };
  /** Opens of the sampled bars, [B, N, H], from models that sample whole bars (Kronos). */
  samplesOpen?: Tensor3;
  meta: ForecastMeta;
}

/** Static facts about a forecaster, for callers that plan windows. */
export interface ForecasterInfo {
  name: string;
  family: ForecastMeta['family'];
  /** Closes read from the end of each window (longer windows are cut to this). */
  contextLength: number;
  /** Fewest observed closes a window must have. */
  minContext: number;
  /** Largest horizon the forecaster can produce. */
  maxHorizon: number;
  /** Quantile levels the forecaster is bound to (a quantile model's card), or null when any are fine. */
  quantileLevels: number[] | null;
}

/** Anything that forecasts: ONNX models, baselines, fallback wrappers. */
export interface Forecaster {
  readonly info: ForecasterInfo;
  /** @throws ModelError on bad input or a failing model (unless a fallback is configured). */
  forecast(request: ForecastRequest): Promise<Forecast>;
  /** Releases sessions (cached sessions stay cached for other forecasters of the same model). */
  close(): Promise<void>;
}

/** The nine levels 0.1..0.9 used by Chronos-Bolt and the GluonTS WQL convention. */
export const DEFAULT_QUANTILE_LEVELS: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/**
 * Whether a family forecasts by sampling paths (its quantiles come from the paths), so that a
 * request for 0 samples cannot be served: the autoregressive family, Kronos and Toto.
 * @example isSamplingFamily('kronos') // true
 */
export function isSamplingFamily(family: ForecastMeta['family']): boolean {
  return family === 'autoregressive' || family === 'kronos' || family === 'toto';
}

/**
 * A zero-filled Tensor3.
 * @example tensor3(2, 3, 4).data.length // 24
 */
export function tensor3(d0: number, d1: number, d2: number): Tensor3 {
  return { data: new Float64Array(d0 * d1 * d2), dims: [d0, d1, d2] };
}
