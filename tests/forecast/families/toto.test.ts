/**
 * Toto family: the random-weight fixture exported by models/export/toto.py (layout of
 * Datadog/Toto-Open-Base-1.0) against the PyTorch outputs recorded at export: Toto's causal patch
 * scaler in TypeScript, the Student-T mixture of the next patch from the graph, the mixture-mean
 * path end to end; and the seeded mixture sampler.
 * Tolerance for floats: |onnx - torch| <= 1e-4 * max(|torch|, rms(torch tensor)).
 */
import { readFileSync, writeFileSync, mkdtempSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/core/errors';
import { Rng } from '../../../src/core/random';
import { loadCard, type LoadedCard, type TotoCard } from '../../../src/forecast/card';
import { drawMixture, totoScale, TotoForecaster } from '../../../src/forecast/families/toto';
import { openModel } from '../../../src/forecast/openModel';
import { clearSessionCache } from '../../../src/forecast/runtime';

const FIXTURES = join(__dirname, '..', '..', '..', 'models', 'fixtures');
const CARD = join(FIXTURES, 'toto-tiny.json');
const loaded = loadCard(CARD) as LoadedCard & { card: TotoCard };
const fx = JSON.parse(readFileSync(join(FIXTURES, loaded.card.parityFixture!), 'utf8'));
const close = Float64Array.from(fx.close as number[]);
const P: number = fx.patchSize;

function maxRelativeError(actual: ArrayLike<number>, expected: number[]): number {
  expect(actual.length).toBe(expected.length);
  const rms = Math.sqrt(expected.reduce((a, v) => a + v * v, 0) / expected.length);
  let worst = 0;
  expected.forEach((v, i) => (worst = Math.max(worst, Math.abs(actual[i] - v) / Math.max(Math.abs(v), rms))));
  return worst;
}

afterAll(() => clearSessionCache());

describe('Toto card', () => {
  it('loads with its patch size, mixture size and scaler', () => {
    expect(loaded.card).toMatchObject({ family: 'toto', patchSize: 4, mixtureComponents: 3, contextLength: 64 });
    expect(loaded.card.scaling).toMatchObject({ kind: 'causalPatchStdMean', minimumScale: 0.1, besselCorrection: true, stabilizeWithGlobal: true });
  });

  it('rejects a card whose outputs do not have patchSize steps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-toto-card-'));
    const bad = { ...loaded.card, patchSize: 8, contextLength: 64 };
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    copyFileSync(loaded.onnxPath, join(dir, loaded.card.file));
    expect(() => loadCard(join(dir, 'bad.json'))).toThrow(/weights dimension 1 must be 8, not 4/);
    expect(() => loadCard(join(dir, 'bad.json'))).toThrow(ModelError);
  });
});

describe('Toto scaling (TypeScript) matches CausalPatchStdMeanScaler', () => {
  it('scales the padded context as recorded, with the last patch statistics', () => {
    const pad: number = fx.padded;
    const vals = new Float64Array(pad + close.length);
    vals.set(close, pad);
    const obs = new Uint8Array(vals.length).fill(1, pad);
    const s = totoScale(vals, obs, P, vals.length, loaded.card.scaling);
    expect(maxRelativeError(s.scaled, fx.scaled)).toBeLessThan(1e-6);
    expect(Math.abs(s.loc - fx.loc.at(-1))).toBeLessThan(1e-9 * fx.loc.at(-1));
    expect(Math.abs(s.scale - fx.scale.at(-1))).toBeLessThan(1e-9 * fx.scale.at(-1));
    // The fixture exercises left padding (unobserved zeros, no weight in the statistics).
    expect(pad).toBeGreaterThan(0);
    const unpadded = totoScale(vals, new Uint8Array(vals.length).fill(1), P, vals.length, loaded.card.scaling);
    expect(Math.abs(unpadded.loc - s.loc)).toBeGreaterThan(1);
  });

  it('computes a hand-checked case: running mean 2.5 and Bessel variance 5/3 at step 4', () => {
    const s = totoScale(Float64Array.of(1, 2, 3, 4), Uint8Array.of(1, 1, 1, 1), 2, 4, loaded.card.scaling);
    expect(s.loc).toBeCloseTo(2.5, 12);
    expect(s.scale).toBeCloseTo(Math.sqrt(5 / 3 + 0.1), 12);
    // first patch uses step 2: mean 1.5, variance 0.5
    expect(s.scaled[0]).toBeCloseTo((1 - 1.5) / Math.sqrt(0.6), 6);
  });
});

describe('Toto graph in onnxruntime matches PyTorch', () => {
  it('gives the recorded Student-T mixture of the next patch to 1e-4', async () => {
    const model = (await openModel(CARD, { device: 'cpu' })) as TotoForecaster;
    const m = await model.mixture(Float32Array.from(fx.scaled), 1, fx.scaled.length);
    expect(fx.mixture.dims).toEqual([1, P, 3]);
    expect(maxRelativeError(m.weights, fx.mixture.weights)).toBeLessThan(1e-4);
    expect(maxRelativeError(m.df, fx.mixture.df)).toBeLessThan(1e-4);
    expect(maxRelativeError(m.loc, fx.mixture.loc)).toBeLessThan(1e-4);
    expect(maxRelativeError(m.scale, fx.mixture.scale)).toBeLessThan(1e-4);
    expect(Math.min(...m.df)).toBeGreaterThan(2);
  });

  it('reproduces the recorded mixture-mean path over several patches (temperature 0)', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const H: number = fx.meanPath.horizon;
    const f = await model.forecast({ context: close, horizon: H, samples: 2, sampling: { temperature: 0 } });
    expect(f.samples!.dims).toEqual([1, 2, H]);
    const first = Array.from(f.samples!.data.subarray(0, H));
    expect(maxRelativeError(first, fx.meanPath.close)).toBeLessThan(1e-4);
    expect(Array.from(f.samples!.data.subarray(H))).toEqual(first);
    expect(f.meta).toMatchObject({ family: 'toto', samplesFrom: 'model', timings: { runs: Math.ceil(H / P) * 1 } });
  });
});

describe('Toto sampling', () => {
  it('is seeded: the same seed gives the same paths, another seed others', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const req = { context: close, horizon: 10, samples: 40, seed: 3 };
    const a = await model.forecast(req);
    const b = await model.forecast(req);
    const c = await model.forecast({ ...req, seed: 4 });
    expect(Array.from(a.samples!.data)).toEqual(Array.from(b.samples!.data));
    expect(Array.from(a.samples!.data)).not.toEqual(Array.from(c.samples!.data));
    expect(a.samples!.data.every(Number.isFinite)).toBe(true);
    // 40 paths in two runs of rows (32 + 8), 3 patches each, the first shared by all: 1 + 2 x 2 runs.
    expect(a.meta.timings.runs).toBe(5);
    const q = a.quantiles!.values;
    for (let h = 0; h < 10; h++) expect(q.data[h]).toBeLessThanOrEqual(q.data[8 * 10 + h]);
  });

  it('draws components in proportion to their weights and Student-t values around each loc', () => {
    const m = { weights: Float32Array.of(0.2, 0.5, 0.3), df: Float32Array.of(5, 5, 5), loc: Float32Array.of(-10, 0, 10),
      scale: Float32Array.of(0.5, 0.5, 0.5) };
    const rng = new Rng(9);
    const counts = [0, 0, 0];
    const N = 20_000;
    for (let i = 0; i < N; i++) {
      const x = drawMixture(m, 0, 3, rng, false);
      counts[x < -5 ? 0 : x > 5 ? 2 : 1]++;
    }
    // binomial sd at N = 20000 is <= 0.0036: 4 sd
    expect(Math.abs(counts[0] / N - 0.2)).toBeLessThan(0.015);
    expect(Math.abs(counts[1] / N - 0.5)).toBeLessThan(0.015);
    expect(Math.abs(counts[2] / N - 0.3)).toBeLessThan(0.015);
    expect(drawMixture(m, 0, 3, rng, true)).toBeCloseTo(0.2 * -10 + 0.3 * 10, 6);
  });

  it('does not depend on the price unit (priceLevel): closes x 1e-5 give paths x 1e-5 for the same seed', async () => {
    expect(loaded.card.priceLevel).toMatchObject({ kind: 'lastClose', level: 100 });
    const model = await openModel(CARD, { device: 'cpu' });
    const a = await model.forecast({ context: close, horizon: 9, samples: 5, seed: 2 });
    const b = await model.forecast({ context: close.map((x) => x * 1e-5), horizon: 9, samples: 5, seed: 2 });
    expect(maxRelativeError(b.samples!.data.map((x) => x * 1e5), Array.from(a.samples!.data))).toBeLessThan(1e-9);
    expect(b.samples!.data.every((x) => x > 0)).toBe(true);
  });

  it('feeds missing closes as unobserved and says so', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const gappy = close.slice();
    gappy[5] = NaN;
    const f = await model.forecast({ context: gappy, horizon: 4, samples: 3, seed: 1 });
    expect(f.samples!.data.every(Number.isFinite)).toBe(true);
    expect(f.meta.samplesMethod).toMatch(/1 missing context closes fed as unobserved/);
  });
});
