/**
 * Forecaster of the `kronos` family (shiyu-coder/Kronos, checkpoints NeoQuasar/Kronos-*):
 * OHLCV bars and their time features in, sampled whole bars (open, high, low, close) out.
 *
 * Per window, as KronosPredictor.predict does: the six columns (open, high, low, close,
 * volume, amount) are z-scored with the context's own mean and population std (+1e-5) and
 * clipped to ±clip; the tokenizer's encoder graph turns them into coarse (s1) and fine (s2)
 * tokens. Then, per step, the `s1` graph gives coarse-token logits at the last position and
 * the context states, a coarse token is sampled, the `s2` graph gives fine-token logits given
 * it, a fine token is sampled (temperature, top-k or top-p, as Kronos's sample_from_logits: top-p
 * is skipped when top-k is on). The sequence slides once it exceeds the card's context. At the
 * end the decoder graph maps the tokens back to bars, which are un-normalised. Every path has
 * its own random stream (seed, window, path).
 */
import * as ort from 'onnxruntime-node';
import { ModelError } from '../../core/errors';
import { Rng } from '../../core/random';
import type { GraphSpec, KronosCard, LoadedCard } from '../card';
import { quantilesFromSamples } from '../distribution';
import { checkSamplingRequest } from '../request';
import { openSession, type ModelSession, type RuntimeOptions } from '../runtime';
import { checkSampling, DEFAULT_SAMPLING, pathRng, TokenSampler } from '../sampling';
import { DEFAULT_QUANTILE_LEVELS, tensor3, type ContextBars, type Forecast, type ForecastRequest, type Forecaster, type ForecasterInfo, type SamplingOptions, type WindowArrays } from '../types';

/** Default number of paths when a request does not say. */
export const DEFAULT_KRONOS_SAMPLES = 100;

type Role = keyof KronosCard['graphs'];

/** The four sessions of a Kronos export. */
export type KronosSessions = Record<Role, ModelSession>;

/** One window made ready for the model: normalised bars, stamps, and the scale to map back. */
export interface KronosWindow {
  /** [L, 6] row-major, normalised and clipped. */
  x: Float32Array;
  /** [L + H, 5]: minute, hour, weekday, day, month of each context bar, then of each future bar. */
  stamp: Float32Array;
  mean: Float64Array;
  std: Float64Array;
  length: number;
  /** Bars left out because a price, volume or time was missing. */
  missing: number;
}

/**
 * Opens the four graphs of a Kronos card (each checked against its sha256 and tensors) on the
 * device asked for; `auto` falls back to the CPU per runtime rules.
 * @throws ModelError when a graph is missing, corrupt or differs from the card, or CUDA cannot load for `device: 'cuda'`.
 * @example const f = await openKronos(loadCard('models/fixtures/kronos-tiny.json') as ..., { device: 'cpu', threads: 1 });
 */
export async function openKronos(loaded: LoadedCard & { card: KronosCard }, opts: RuntimeOptions,
  defaults: Partial<SamplingOptions> = {}): Promise<KronosForecaster> {
  const sessions = {} as KronosSessions;
  // The first graph decides the device (and logs the one line of 'auto'); the others follow it.
  sessions.s1 = await openSession(graphCard(loaded, 's1'), opts);
  const rest = { ...opts, device: opts.device === 'auto' ? sessions.s1.device : opts.device };
  for (const role of ['encoder', 'decoder', 's2'] as const) sessions[role] = await openSession(graphCard(loaded, role), rest);
  return new KronosForecaster(loaded, sessions, defaults);
}

/** The card of one graph, as the runtime checks it (name `NAME/role`). */
function graphCard(loaded: LoadedCard & { card: KronosCard }, role: Role): LoadedCard {
  const g: GraphSpec = loaded.card.graphs[role];
  const onnxPath = loaded.onnxPath.slice(0, loaded.onnxPath.length - loaded.card.file.length) + g.file;
  return { card: { ...loaded.card, name: `${loaded.card.name}/${role}`, file: g.file, sha256: g.sha256, inputs: g.inputs, outputs: g.outputs }, cardPath: loaded.cardPath, onnxPath };
}

/**
 * Time features of a bar opening at `ms` (UTC), as KronosPredictor's calc_time_stamps:
 * minute, hour, weekday (Monday 0), day of month, month (1..12).
 * @example timeFeatures(Date.UTC(2024, 0, 1, 14, 30)) // [30, 14, 0, 1, 1]
 */
export function timeFeatures(ms: number): [number, number, number, number, number] {
  const d = new Date(ms);
  return [d.getUTCMinutes(), d.getUTCHours(), (d.getUTCDay() + 6) % 7, d.getUTCDate(), d.getUTCMonth() + 1];
}

/**
 * Normalises one window of bars as KronosPredictor.predict: missing volume -> volume and amount 0;
 * amount = volume × mean(open, high, low, close); each column z = (x - mean) / (std + eps), clipped to ±clip
 * (mean and population std over the window's observed bars). Bars with a missing price, volume or time
 * are left out and counted. Future bar times continue the context's median bar spacing.
 * @throws ModelError (row = window) when fewer than 2 bars have times, or the spacing is not positive.
 * @example prepareKronosWindow(closes, bars, 0, 30, { eps: 1e-5, clip: 5 }).x.length // 6 × observed bars
 */
export function prepareKronosWindow(
  close: Float64Array,
  bars: { timeMs: Float64Array; open: Float64Array; high: Float64Array; low: Float64Array; volume?: Float64Array },
  windowIndex: number,
  horizon: number,
  norm: { eps: number; clip: number },
): KronosWindow {
  const n = close.length;
  const keep: number[] = [];
  for (let i = 0; i < n; i++) {
    const ok = [close[i], bars.open[i], bars.high[i], bars.low[i], bars.timeMs[i], bars.volume ? bars.volume[i] : 0].every(Number.isFinite);
    if (ok) keep.push(i);
  }
  const L = keep.length;
  const raw = new Float64Array(L * 6);
  keep.forEach((i, r) => {
    const o = bars.open[i];
    const h = bars.high[i];
    const l = bars.low[i];
    const c = close[i];
    const v = bars.volume ? bars.volume[i] : 0;
    raw.set([o, h, l, c, v, (v * (o + h + l + c)) / 4], r * 6);
  });
  const mean = new Float64Array(6);
  const std = new Float64Array(6);
  for (let j = 0; j < 6; j++) {
    let s = 0;
    for (let r = 0; r < L; r++) s += raw[r * 6 + j];
    mean[j] = s / L;
    let q = 0;
    for (let r = 0; r < L; r++) q += (raw[r * 6 + j] - mean[j]) ** 2;
    std[j] = Math.sqrt(q / L);
  }
  const x = new Float32Array(L * 6);
  for (let r = 0; r < L; r++) {
    for (let j = 0; j < 6; j++) {
      const z = (raw[r * 6 + j] - mean[j]) / (std[j] + norm.eps);
      x[r * 6 + j] = Math.min(norm.clip, Math.max(-norm.clip, z));
    }
  }
  // Future bar times: the median spacing of the context's bar grid.
  const gaps: number[] = [];
  for (let i = 1; i < n; i++) {
    const g = bars.timeMs[i] - bars.timeMs[i - 1];
    if (Number.isFinite(g)) gaps.push(g);
  }
  gaps.sort((a, b) => a - b);
  const step = gaps.length > 0 ? gaps[Math.floor(gaps.length / 2)] : NaN;
  if (!(step > 0)) throw new ModelError(`window ${windowIndex}: bar times must increase (median spacing ${step} ms)`, { key: 'contextBars.timeMs', row: windowIndex });
  let lastTime = NaN;
  for (let i = n - 1; i >= 0 && !Number.isFinite(lastTime); i--) lastTime = bars.timeMs[i];
  const stamp = new Float32Array((L + horizon) * 5);
  keep.forEach((i, r) => stamp.set(timeFeatures(bars.timeMs[i]), r * 5));
  for (let h = 0; h < horizon; h++) stamp.set(timeFeatures(lastTime + (h + 1) * step), (L + h) * 5);
  return { x, stamp, mean, std, length: L, missing: n - L };
}

export class KronosForecaster implements Forecaster {
  readonly info: ForecasterInfo;
  private readonly card: KronosCard;
  private readonly v1: number;
  private readonly v2: number;
  private modelMs = 0;
  private runs = 0;

  constructor(
    private readonly loaded: LoadedCard & { card: KronosCard },
    private readonly sessions: KronosSessions,
    private readonly defaults: Partial<SamplingOptions> = {},
  ) {
    this.card = loaded.card;
    this.v1 = 2 ** this.card.tokens.s1Bits;
    this.v2 = 2 ** this.card.tokens.s2Bits;
    this.info = {
      name: this.card.name,
      family: 'kronos',
      contextLength: this.card.contextLength,
      minContext: this.card.minContext,
      maxHorizon: this.card.horizon,
      quantileLevels: null,
    };
  }

  /** Where the forecasts run (the coarse-token graph's session). */
  get device(): 'cpu' | 'cuda' {
    return this.sessions.s1.device;
  }

  /** One pass through every graph on 8 flat bars. */
  async warmUp(): Promise<void> {
    const x = new Float32Array(8 * 6);
    const { s1, s2 } = await this.encode(x, 8);
    const stamp = new Float32Array(8 * 5);
    const r = await this.runS1(s1, s2, stamp, 1, 8);
    await this.runS2(r.context, new Int32Array([0]), 1);
    await this.decode(s1, s2, 1, 8);
  }

  /**
   * Samples N whole bars per step per window: closes [B, N, H] in `samples`, highs and lows in
   * `samplesHighLow`, opens in `samplesOpen`, and the closes' quantiles.
   * Without `contextBars` the model still runs, on bars made from closes (open = high = low = close,
   * volume 0, every time feature 0), and `meta.samplesMethod` says so.
   * @throws ModelError on bad windows or bars, a horizon beyond the card's, samples < 1, or non-finite model output.
   */
  async forecast(request: ForecastRequest): Promise<Forecast> {
    const t0 = performance.now();
    this.modelMs = 0;
    this.runs = 0;
    const { windows, n } = checkSamplingRequest(request, this.info, DEFAULT_KRONOS_SAMPLES, 'Kronos');
    const sampling = checkSampling({ ...DEFAULT_SAMPLING, ...defined(this.card.sampling), ...defined(this.defaults), ...defined(request.sampling) });
    const seed = request.seed ?? 0;
    const H = request.horizon;
    const bars = request.contextBars ? alignBars(request.contextBars, windows) : null;
    const B = windows.length;
    const close = tensor3(B, n, H);
    const high = tensor3(B, n, H);
    const low = tensor3(B, n, H);
    const open = tensor3(B, n, H);
    let missing = 0;
    let widened = 0;
    const L0 = this.card.contextLength;
    for (let w = 0; w < B; w++) {
      const cut = Math.max(0, windows[w].length - L0);
      const c = windows[w].subarray(cut);
      const b = bars
        ? { timeMs: bars.timeMs[w].subarray(cut), open: bars.open[w].subarray(cut), high: bars.high[w].subarray(cut), low: bars.low[w].subarray(cut),
          volume: bars.volume?.[w].subarray(cut) }
        : { timeMs: Float64Array.from(c, (_, i) => i * 60_000), open: c, high: c, low: c };
      const win = prepareKronosWindow(c, b, w, H, this.card.normalisation);
      if (!bars) win.stamp.fill(0);
      if (win.length < this.card.minContext) {
        throw new ModelError(`${this.card.name}: window ${w} has ${win.length} complete bars, fewer than the ${this.card.minContext} required`, { key: 'contextBars', row: w });
      }
      missing += win.missing;
      widened += await this.sampleWindow(win, w, n, H, sampling, seed, { close, high, low, open });
    }
    const levels = [...(request.quantileLevels ?? DEFAULT_QUANTILE_LEVELS)];
    const notes = [
      bars ? (bars.volume ? 'OHLCV bars' : 'OHLC bars without volume (volume and amount fed as 0, as KronosPredictor does)') : 'no contextBars: bars made from closes (open = high = low = close, volume 0, time features 0)',
      `${missing} incomplete context bars left out`,
      `${widened} of ${B * n * H} sampled bars had high/low widened to cover open and close`,
    ];
    return {
      quantiles: { levels, values: quantilesFromSamples(close, levels) },
      samples: close,
      samplesHighLow: { high, low },
      samplesOpen: open,
      meta: {
        model: this.card.name,
        family: 'kronos',
        device: this.device,
        batch: B,
        horizon: H,
        samples: n,
        samplesFrom: 'model',
        samplesMethod: `Kronos coarse then fine token per bar, decoded to OHLC; ${notes.join('; ')}`,
        timings: { totalMs: performance.now() - t0, modelMs: this.modelMs, runs: this.runs },
        sampling: { ...sampling, kvCache: 'recompute', seed },
        fallback: { count: 0, forecaster: null, reasons: [] },
      },
    };
  }

  async close(): Promise<void> {
    // Sessions stay in the shared cache.
  }

  /** Encoder graph: normalised bars [1, L, 6] -> coarse and fine tokens. */
  async encode(x: Float32Array, L: number): Promise<{ s1: Int32Array; s2: Int32Array }> {
    const out = await this.run('encoder', { bars: new ort.Tensor('float32', x, [1, L, 6]) });
    return { s1: toInt32(out.s1_ids), s2: toInt32(out.s2_ids) };
  }

  /** s1 graph: tokens and stamps [rows, len] -> coarse logits [rows, V1] and context states. */
  async runS1(s1: Int32Array, s2: Int32Array, stamp: Float32Array, rows: number, len: number): Promise<{ logits: Float32Array; context: ort.Tensor }> {
    const out = await this.run('s1', { s1_ids: int64(s1, [rows, len]), s2_ids: int64(s2, [rows, len]), stamp: new ort.Tensor('float32', stamp, [rows, len, 5]) });
    return { logits: this.finite(out.s1_logits, 's1_logits'), context: out.context };
  }

  /** s2 graph: context states and one coarse token per row -> fine logits [rows, V2]. */
  async runS2(context: ort.Tensor, s1: Int32Array, rows: number): Promise<Float32Array> {
    const out = await this.run('s2', { context, s1_id: int64(s1, [rows, 1]) });
    return this.finite(out.s2_logits, 's2_logits');
  }

  /** Decoder graph: tokens [rows, len] -> normalised bars [rows, len, 6]. */
  async decode(s1: Int32Array, s2: Int32Array, rows: number, len: number): Promise<Float32Array> {
    const out = await this.run('decoder', { s1_ids: int64(s1, [rows, len]), s2_ids: int64(s2, [rows, len]) });
    return this.finite(out.bars, 'bars');
  }

  /**
   * Samples n paths of one window in batches of rows; writes closes, highs, lows, opens at
   * (w, path, step). Returns how many bars had high/low widened to cover open and close.
   */
  async sampleWindow(win: KronosWindow, w: number, n: number, H: number, sampling: SamplingOptions, seed: number, out: Record<'close' | 'high' | 'low' | 'open', { data: Float64Array }>): Promise<number> {
    const L = win.length;
    const maxCtx = this.card.contextLength;
    const ctx = await this.encode(win.x, L);
    // Kronos's sample_from_logits: with top-k on, top-p is not applied.
    const opts = { temperature: sampling.temperature, topK: sampling.topK, topP: sampling.topK > 0 ? 1 : sampling.topP };
    const sampler1 = new TokenSampler(this.v1, opts);
    const sampler2 = new TokenSampler(this.v2, opts);
    const base = new Rng(seed);
    const perBatch = Math.max(1, Math.min(sampling.samplesPerBatch, Math.floor(2 ** 23 / (maxCtx * maxCtx))));
    let widened = 0;
    for (let start = 0; start < n; start += perBatch) {
      const rows = Math.min(perBatch, n - start);
      const rngs = Array.from({ length: rows }, (_, r) => pathRng(base, w, start + r));
      const g1 = new Int32Array(rows * H);
      const g2 = new Int32Array(rows * H);
      const tokenAt = (ctxIds: Int32Array, gen: Int32Array, r: number, p: number): number => (p < L ? ctxIds[p] : gen[r * H + p - L]);
      for (let h = 0; h < H; h++) {
        const cur = L + h;
        const from = Math.max(0, cur - maxCtx);
        const len = cur - from;
        // At the first step every row has the same sequence: one row is run and shared.
        const k = h === 0 ? 1 : rows;
        const ids1 = new Int32Array(k * len);
        const ids2 = new Int32Array(k * len);
        const stamp = new Float32Array(k * len * 5);
        for (let r = 0; r < k; r++) {
          for (let p = from; p < cur; p++) {
            ids1[r * len + p - from] = tokenAt(ctx.s1, g1, r, p);
            ids2[r * len + p - from] = tokenAt(ctx.s2, g2, r, p);
          }
          stamp.set(win.stamp.subarray(from * 5, cur * 5), r * len * 5);
        }
        const s1 = await this.runS1(ids1, ids2, stamp, k, len);
        const coarse = new Int32Array(rows);
        for (let r = 0; r < rows; r++) coarse[r] = sampler1.sample(s1.logits, (k === 1 ? 0 : r) * this.v1, rngs[r]);
        const context = k === rows ? s1.context : tileRows(s1.context, rows);
        const logits2 = await this.runS2(context, coarse, rows);
        for (let r = 0; r < rows; r++) {
          g1[r * H + h] = coarse[r];
          g2[r * H + h] = sampler2.sample(logits2, r * this.v2, rngs[r]);
        }
      }
      const total = L + H;
      const from = Math.max(0, total - maxCtx);
      const len = total - from;
      const d1 = new Int32Array(rows * len);
      const d2 = new Int32Array(rows * len);
      for (let r = 0; r < rows; r++) {
        for (let p = from; p < total; p++) {
          d1[r * len + p - from] = tokenAt(ctx.s1, g1, r, p);
          d2[r * len + p - from] = tokenAt(ctx.s2, g2, r, p);
        }
      }
      const decoded = await this.decode(d1, d2, rows, len);
      for (let r = 0; r < rows; r++) {
        const at = (w * n + start + r) * H;
        for (let h = 0; h < H; h++) {
          const row = (r * len + len - H + h) * 6;
          const price = (j: number): number => decoded[row + j] * (win.std[j] + this.card.normalisation.eps) + win.mean[j];
          const o = price(0);
          const c = price(3);
          let hi = price(1);
          let lo = price(2);
          const top = Math.max(o, c);
          const bottom = Math.min(o, c);
          if (hi < top || lo > bottom) widened++;
          hi = Math.max(hi, top);
          lo = Math.min(lo, bottom);
          out.open.data[at + h] = o;
          out.close.data[at + h] = c;
          out.high.data[at + h] = hi;
          out.low.data[at + h] = lo;
        }
      }
    }
    return widened;
  }

  private async run(role: Role, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
    const t = performance.now();
    try {
      return await this.sessions[role].session.run(feeds);
    } catch (err) {
      throw new ModelError(`${this.card.name}: the ${role} graph failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, { file: this.loaded.cardPath, key: `graphs.${role}` }, { cause: err });
    } finally {
      this.modelMs += performance.now() - t;
      this.runs++;
    }
  }

  private finite(t: ort.Tensor, name: string): Float32Array {
    const data = t.data as Float32Array;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new ModelError(`${this.card.name} returned a non-finite ${name} value at ${i}`, { file: this.loaded.cardPath, key: name });
    }
    return data;
  }
}

/** Bars as one Float64Array per window, each as long as its window of closes. */
function alignBars(bars: ContextBars,
  windows: Float64Array[]): { timeMs: Float64Array[]; open: Float64Array[]; high: Float64Array[]; low: Float64Array[]; volume?: Float64Array[] } {
  const one = (a: WindowArrays, key: string): Float64Array[] => {
    const list = a instanceof Float64Array ? [a] : [...a];
    if (list.length !== windows.length) throw new ModelError(`contextBars.${key} has ${list.length} windows for ${windows.length} context windows`, { key: `contextBars.${key}` });
    list.forEach((x, i) => {
      if (x.length !== windows[i].length) throw new ModelError(`window ${i}: ${x.length} ${key} values for ${windows[i].length} closes`, { key: `contextBars.${key}`, row: i });
    });
    return list;
  };
  return {
    timeMs: one(bars.timeMs, 'timeMs'),
    open: one(bars.open, 'open'),
    high: one(bars.high, 'high'),
    low: one(bars.low, 'low'),
    ...(bars.volume ? { volume: one(bars.volume, 'volume') } : {}),
  };
}

function int64(ids: Int32Array, dims: number[]): ort.Tensor {
  const big = new BigInt64Array(ids.length);
  for (let i = 0; i < ids.length; i++) big[i] = BigInt(ids[i]);
  return new ort.Tensor('int64', big, dims);
}

function toInt32(t: ort.Tensor): Int32Array {
  const src = t.data as BigInt64Array;
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
  return out;
}

/** Repeats a [1, ...] tensor `rows` times along the first axis. */
function tileRows(t: ort.Tensor, rows: number): ort.Tensor {
  const src = t.data as Float32Array;
  const dst = new Float32Array(src.length * rows);
  for (let r = 0; r < rows; r++) dst.set(src, r * src.length);
  return new ort.Tensor('float32', dst, [rows, ...t.dims.slice(1)]);
}

/** The entries of a partial settings object that are set (an explicit `undefined` does not override a default). */
function defined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
