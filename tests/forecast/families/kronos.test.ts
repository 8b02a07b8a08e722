/**
 * Kronos family: the random-weight fixture exported by models/export/kronos.py (layout of
 * NeoQuasar/Kronos-* and Kronos-Tokenizer-base) against the PyTorch outputs recorded at export,
 * the TypeScript normalisation and time features, the greedy path end to end, and the sampler.
 * Tolerance for floats: |onnx - torch| <= 1e-4 * max(|torch|, rms(torch tensor)).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/core/errors';
import { loadCard, type KronosCard, type LoadedCard } from '../../../src/forecast/card';
import { openKronos, prepareKronosWindow, timeFeatures } from '../../../src/forecast/families/kronos';
import { openModel } from '../../../src/forecast/openModel';
import { clearSessionCache } from '../../../src/forecast/runtime';

const CARD = join(__dirname, '..', '..', '..', 'models', 'fixtures', 'kronos-tiny.json');
const loaded = loadCard(CARD) as LoadedCard & { card: KronosCard };
const fx = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'models', 'fixtures', loaded.card.parityFixture!), 'utf8'));
const L: number = fx.bars.dims[0];
const H: number = fx.greedy.horizon;
const col = (j: number) => Float64Array.from({ length: L }, (_, i) => fx.bars.data[i * 6 + j]);
const bars = { timeMs: Float64Array.from(fx.timesMs.slice(0, L)), open: col(0), high: col(1), low: col(2), volume: col(4) };
const close = col(3);

function maxRelativeError(actual: ArrayLike<number>, expected: number[]): number {
  expect(actual.length).toBe(expected.length);
  const rms = Math.sqrt(expected.reduce((a, v) => a + v * v, 0) / expected.length);
  let worst = 0;
  expected.forEach((v, i) => (worst = Math.max(worst, Math.abs(actual[i] - v) / Math.max(Math.abs(v), rms))));
  return worst;
}

afterAll(() => clearSessionCache());

describe('Kronos card', () => {
  it('loads with its four graphs, token sizes and normalisation', () => {
    expect(loaded.card.family).toBe('kronos');
    expect(Object.keys(loaded.card.graphs).sort()).toEqual(['decoder', 'encoder', 's1', 's2']);
    expect(loaded.card.tokens).toEqual({ s1Bits: 4, s2Bits: 4 });
    expect(loaded.card.normalisation.clip).toBe(5);
  });

  it('rejects a card whose graph sha256 is wrong', async () => {
    const bad = { ...loaded, card: { ...loaded.card, graphs: { ...loaded.card.graphs, decoder: { ...loaded.card.graphs.decoder, sha256: '0'.repeat(64) } } } };
    const err = await openKronos(bad, { device: 'cpu', threads: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err.message).toMatch(/sha256 of the ONNX file/);
  });
});

describe('Kronos normalisation and time features (TypeScript) match KronosPredictor', () => {
  it('z-scores and clips the six columns as recorded', () => {
    const w = prepareKronosWindow(close, bars, 0, H, loaded.card.normalisation);
    expect(w.length).toBe(L);
    expect(w.missing).toBe(0);
    expect(maxRelativeError(w.x, fx.normalised.data)).toBeLessThan(1e-5);
    expect(maxRelativeError(w.mean, fx.normalised.mean)).toBeLessThan(1e-6);
    expect(maxRelativeError(w.std, fx.normalised.std)).toBeLessThan(1e-5);
    expect(Array.from(w.stamp)).toEqual(fx.stamp);
  });

  it('time features: minute, hour, weekday (Monday 0), day, month in UTC', () => {
    expect(timeFeatures(Date.UTC(2024, 0, 1, 14, 30))).toEqual([30, 14, 0, 1, 1]);
    expect(timeFeatures(Date.UTC(2024, 11, 29, 23, 59))).toEqual([59, 23, 6, 29, 12]);
  });

  it('leaves out bars with a missing price and counts them', () => {
    const holed = { ...bars, open: bars.open.slice() };
    holed.open[5] = NaN;
    const w = prepareKronosWindow(close, holed, 0, H, loaded.card.normalisation);
    expect(w.length).toBe(L - 1);
    expect(w.missing).toBe(1);
  });
});

describe('Kronos graphs in onnxruntime match PyTorch', () => {
  it('encoder tokens, coarse and fine logits, decoder bars', async () => {
    const k = await openKronos(loaded, { device: 'cpu', threads: 1 });
    const tokens = await k.encode(Float32Array.from(fx.normalised.data), L);
    expect(Array.from(tokens.s1)).toEqual(fx.s1_ids);
    expect(Array.from(tokens.s2)).toEqual(fx.s2_ids);
    const s1 = await k.runS1(tokens.s1, tokens.s2, Float32Array.from(fx.stamp.slice(0, L * 5)), 1, L);
    expect(maxRelativeError(s1.logits, fx.s1_logits)).toBeLessThan(1e-4);
    const s2 = await k.runS2(s1.context, new Int32Array([fx.s2_probe]), 1);
    expect(maxRelativeError(s2, fx.s2_logits)).toBeLessThan(1e-4);
    const decoded = await k.decode(tokens.s1, tokens.s2, 1, L);
    expect(maxRelativeError(decoded, fx.decoded.data)).toBeLessThan(1e-4);
  });

  it('the greedy path (temperature 0) is the one PyTorch decoded, sliding past the context', async () => {
    expect(L + H).toBeGreaterThan(fx.maxContext); // the fixture crosses the sliding window
    const model = await openModel(CARD, { device: 'cpu' });
    const f = await model.forecast({ context: close, contextBars: bars, horizon: H, samples: 2, seed: 3, sampling: { temperature: 0 } });
    const g = fx.greedy.bars.data as number[];
    const at = (h: number, j: number) => g[h * 6 + j];
    for (let p = 0; p < 2; p++) {
      const off = p * H;
      expect(maxRelativeError(f.samples!.data.subarray(off, off + H), Array.from({ length: H }, (_, h) => at(h, 3)))).toBeLessThan(1e-4);
      expect(maxRelativeError(f.samplesOpen!.data.subarray(off, off + H), Array.from({ length: H }, (_, h) => at(h, 0)))).toBeLessThan(1e-4);
      // Highs and lows: the decoded ones, widened where they do not cover open and close.
      const hi = Array.from({ length: H }, (_, h) => Math.max(at(h, 1), at(h, 0), at(h, 3)));
      const lo = Array.from({ length: H }, (_, h) => Math.min(at(h, 2), at(h, 0), at(h, 3)));
      expect(maxRelativeError(f.samplesHighLow!.high.data.subarray(off, off + H), hi)).toBeLessThan(1e-4);
      expect(maxRelativeError(f.samplesHighLow!.low.data.subarray(off, off + H), lo)).toBeLessThan(1e-4);
    }
    expect(f.meta.family).toBe('kronos');
    expect(f.meta.samplesMethod).toMatch(/OHLCV bars; 0 incomplete context bars left out; \d+ of 24 sampled bars had high\/low widened/);
  });
});

describe('Kronos sampling', () => {
  const req = { context: [close, close.slice(4)], contextBars: { timeMs: [bars.timeMs, bars.timeMs.slice(4)], open: [bars.open, bars.open.slice(4)],
    high: [bars.high, bars.high.slice(4)], low: [bars.low, bars.low.slice(4)] }, horizon: 6, samples: 5 };

  it('is seeded: same seed and any batching give the same paths, another seed others', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const a = await model.forecast({ ...req, seed: 1 });
    const b = await model.forecast({ ...req, seed: 1, sampling: { samplesPerBatch: 2 } });
    const c = await model.forecast({ ...req, seed: 2 });
    expect(Array.from(b.samples!.data)).toEqual(Array.from(a.samples!.data));
    expect(Array.from(c.samples!.data)).not.toEqual(Array.from(a.samples!.data));
    expect(a.samples!.dims).toEqual([2, 5, 6]);
    for (let i = 0; i < a.samples!.data.length; i++) {
      expect(a.samplesHighLow!.low.data[i]).toBeLessThanOrEqual(a.samples!.data[i]);
      expect(a.samplesHighLow!.high.data[i]).toBeGreaterThanOrEqual(a.samples!.data[i]);
    }
    expect(a.meta.samplesMethod).toMatch(/OHLC bars without volume/);
  });

  it('runs on closes alone and says so', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const f = await model.forecast({ context: close, horizon: 4, samples: 3, seed: 0 });
    expect(f.samples!.dims).toEqual([1, 3, 4]);
    expect(f.meta.samplesMethod).toMatch(/no contextBars: bars made from closes/);
  });

  it('rejects bars that do not align with the closes, naming the window', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const err = await model.forecast({ ...req, contextBars: { ...req.contextBars, open: [bars.open, bars.open] } }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err.message).toMatch(/window 1: 40 open values for 36 closes/);
  });
});

describe('Kronos devices', () => {
  it("device 'cuda' that cannot load is a ModelError, and 'auto' falls back to the CPU saying so", async () => {
    const err = await openModel(CARD, { device: 'cuda' }).catch((e) => e);
    if (err instanceof ModelError) {
      expect(err.location.key).toBe('device');
      const lines: string[] = [];
      const m = await openModel(CARD, { device: 'auto', log: (l) => lines.push(l) });
      expect((m as unknown as { device: string }).device).toBe('cpu');
      expect(lines.join('\n')).toMatch(/CUDA unavailable .* running on CPU/);
    } else {
      // A machine with CUDA: the forecaster runs there.
      expect((err as { device: string }).device).toBe('cuda');
    }
  });
});
