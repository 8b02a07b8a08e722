import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, ModelError } from '../../src/core/errors';
import { syntheticSeries } from '../../src/data/synthetic';
import { AutoregressiveForecaster } from '../../src/forecast/autoregressive';
import { loadCard, type AutoregressiveCard, type LoadedCard } from '../../src/forecast/card';
import { openModel } from '../../src/forecast/openModel';
import { clearSessionCache } from '../../src/forecast/runtime';
import { tokenizeCloses } from '../../src/forecast/tokenizer';

const CARD = join(__dirname, '..', '..', 'models', 'qb-ar-s.json');
const closes = syntheticSeries({ seed: 11, n: 600 }).close;
const window = closes.slice(0, 512);
const other = closes.slice(50, 562);

afterAll(() => clearSessionCache());

describe('shipped autoregressive model', () => {
  it('samples [B, N, H] paths that start from the last close with the card tokenizer', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const f = await model.forecast({ context: [window, other], horizon: 5, samples: 8, seed: 3 });
    expect(f.samples!.dims).toEqual([2, 8, 5]);
    expect(f.meta).toMatchObject({ family: 'autoregressive', device: 'cpu', samples: 8, samplesFrom: 'model' });
    expect(f.meta.sampling).toMatchObject({ kvCache: 'cache', temperature: 1, topK: 0, topP: 1, seed: 3 });
    const card = loadCard(CARD).card as AutoregressiveCard;
    const { scale } = tokenizeCloses(window, card.tokenizer);
    const edges = card.tokenizer.binEdges;
    const centres = new Set(edges.slice(1).map((e, i) => +((0.5 * (e + edges[i])) * scale).toFixed(12)));
    // every step's log return is one bin centre times the window's scale
    for (let j = 0; j < 8; j++) {
      let prev = window[511];
      for (let h = 0; h < 5; h++) {
        const r = Math.log(f.samples!.data[j * 5 + h] / prev);
        expect(centres.has(+r.toFixed(12))).toBe(true);
        prev = f.samples!.data[j * 5 + h];
      }
    }
    expect(f.quantiles!.values.dims).toEqual([2, 9, 5]);
  });

  it('cache and recompute modes give the same paths; batching does not change them', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const req = { context: [window, other], horizon: 4, samples: 4, seed: 9 };
    const cached = await model.forecast({ ...req, sampling: { kvCache: 'cache', samplesPerBatch: 8 } });
    const recomputed = await model.forecast({ ...req, sampling: { kvCache: 'recompute', samplesPerBatch: 8 } });
    const small = await model.forecast({ ...req, sampling: { kvCache: 'cache', samplesPerBatch: 3 } });
    expect(recomputed.meta.sampling!.kvCache).toBe('recompute');
    const rel = (a: Float64Array, b: Float64Array) => Math.max(...Array.from(a, (v, i) => Math.abs(v / b[i] - 1)));
    expect(rel(recomputed.samples!.data, cached.samples!.data)).toBeLessThan(1e-9);
    expect(small.samples!.data).toEqual(cached.samples!.data);
    // 8 rows in one batch: a prefill and 3 cached steps. Batches are window-major (each window's context
    // cache is shared by its rows in the graph): at most 3 rows, so 3 + 1 rows per window, 4 batches of 3 steps.
    expect(cached.meta.timings.runs).toBe(1 + 3);
    expect(small.meta.timings.runs).toBe(1 + 4 * 3);
  });

  it('splits long recompute runs into row batches that bound memory, with the same paths', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    // One row more than a run holds is enough to split (fewer rows than before: this is the file's slowest test).
    const req = { context: window, horizon: 2, samples: 33, seed: 2 };
    const cached = await model.forecast({ ...req, sampling: { kvCache: 'cache' } });
    const recomputed = await model.forecast({ ...req, sampling: { kvCache: 'recompute' } });
    // 2^23 / 512^2 = 32 rows per run of 512 tokens: the prefill, then 33 rows in runs of 32 and 1
    expect(recomputed.meta.timings.runs).toBe(1 + 2);
    expect(cached.meta.timings.runs).toBe(1 + 1);
    const rel = Math.max(...Array.from(recomputed.samples!.data, (v, i) => Math.abs(v / cached.samples!.data[i] - 1)));
    expect(rel).toBeLessThan(1e-9);
  });

  it('is seeded, and temperature 0 makes every path the greedy one', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const a = await model.forecast({ context: window, horizon: 3, samples: 6, seed: 1 });
    const b = await model.forecast({ context: window, horizon: 3, samples: 6, seed: 1 });
    const c = await model.forecast({ context: window, horizon: 3, samples: 6, seed: 2 });
    expect(a.samples!.data).toEqual(b.samples!.data);
    expect(a.samples!.data).not.toEqual(c.samples!.data);
    const greedy = await model.forecast({ context: window, horizon: 3, samples: 4, sampling: { temperature: 0 } });
    const d = greedy.samples!.data;
    for (let j = 1; j < 4; j++) expect(Array.from(d.subarray(j * 3, j * 3 + 3))).toEqual(Array.from(d.subarray(0, 3)));
  });

  it('narrower sampling (top-k 1) collapses the paths; wider temperature spreads them', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const spread = async (sampling: Record<string, number>) => {
      const f = await model.forecast({ context: window, horizon: 5, samples: 32, seed: 4, sampling });
      const q = f.quantiles!.values.data; // levels 0.1..0.9, step 5 at index 4
      return q[8 * 5 + 4] - q[0 * 5 + 4];
    };
    expect(await spread({ topK: 1 })).toBe(0);
    expect(await spread({ temperature: 1.5 })).toBeGreaterThan(await spread({ temperature: 0.5 }));
  });

  it('bad input is a ModelError (or ConfigError for sampler settings)', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    await expect(model.forecast({ context: window, horizon: 65 })).rejects.toThrow(/beyond qb-ar-s's 64 bars/);
    await expect(model.forecast({ context: window, horizon: 5, samples: 0 })).rejects.toThrow(/samples >= 1/);
    await expect(model.forecast({ context: window.slice(0, 20), horizon: 5 })).rejects.toThrow(/fewer than the 65 required/);
    await expect(model.forecast({ context: window, horizon: 5, sampling: { topP: 2 } })).rejects.toThrow(ConfigError);
    await expect(model.forecast({ context: [window, new Float64Array(100).fill(NaN)], horizon: 5 })).rejects.toThrow(ModelError);
  });
});

describe('non-finite logits', () => {
  /** The shipped card with a session whose first run returns `logits` (prefill rows x vocab). */
  function brokenModel(logits: Float32Array): AutoregressiveForecaster {
    const loaded = loadCard(CARD) as LoadedCard & { card: AutoregressiveCard };
    const run = async () => ({ logits: new ort.Tensor('float32', logits, [logits.length / 256, 256]) });
    return new AutoregressiveForecaster(loaded, { session: { run } as unknown as ort.InferenceSession, device: 'cpu', warmedUp: null });
  }

  it('are a ModelError naming the first bad row and token: NaN, and +Infinity beside -Infinity', async () => {
    const nan = new Float32Array(256).fill(0.5);
    nan[7] = NaN;
    await expect(brokenModel(nan).forecast({ context: window, horizon: 3, samples: 2, seed: 1 })).rejects.toThrow(/produced logit NaN \(row 0, token 7\)/);
    const inf = new Float32Array(256).fill(-1);
    inf[3] = Infinity;
    inf[200] = -Infinity;
    const err = await brokenModel(inf).forecast({ context: window, horizon: 3, samples: 2, seed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/produced logit Infinity \(row 0, token 3\)/);
  });
});
