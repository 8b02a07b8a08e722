/**
 * Chronos (T5) in quantbook: the random-weight checkpoint in the published layout
 * (tests/forecast/fixtures/fm/checkpoints/chronos-t5-rand, built by
 * models/export/testdata/make_chronos_checkpoints.py) exported by models/export/chronos.py.
 * The tokenizer (TypeScript) against Chronos' own arithmetic recorded in PyTorch, both graphs
 * against PyTorch to 1e-4, and the TypeScript sampler: greedy decoding follows the recorded
 * logits, and sampled paths are identical for a seed whatever the batching.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { graphCard, loadCard, type ChronosCard, type LoadedCard } from '../../../src/forecast/card';
import { chronosBins, chronosDecode, chronosTokenize } from '../../../src/forecast/families/chronos';
import { openModel } from '../../../src/forecast/openModel';
import { clearSessionCache, openSession } from '../../../src/forecast/runtime';
import { searchSamplerSettings } from '../../../src/forecast/samplerSearch';

const FM = join(__dirname, '..', 'fixtures', 'fm');
const CARD = join(FM, 'chronos-t5-rand.json');
type Recorded = { dims: number[]; data: (number | null)[] };
const fx = JSON.parse(readFileSync(join(FM, 'chronos-t5-rand.parity.json'), 'utf8')) as {
  context: Recorded;
  tokenizer: { input_ids: Recorded; attention_mask: Recorded; scale: number[] };
  encoder: { encoder_hidden_states: Recorded };
  decoder: { decoder_input_ids: Recorded; logits: Recorded; first_logits: Recorded; cached_logits: Recorded };
};
const loaded = loadCard(CARD) as LoadedCard & { card: ChronosCard };
const spec = loaded.card.tokenizer;
const f64 = (r: Recorded) => Float64Array.from(r.data, (v) => (v === null ? NaN : v));
const i64 = (r: Recorded) => new ort.Tensor('int64', BigInt64Array.from(r.data, (v) => BigInt(v as number)), r.dims);

function maxRelativeError(actual: ArrayLike<number>, expected: Recorded): number {
  const exp = f64(expected);
  expect(actual.length).toBe(exp.length);
  const rms = Math.sqrt(exp.reduce((a, v) => a + v * v, 0) / exp.length);
  let worst = 0;
  exp.forEach((v, i) => (worst = Math.max(worst, Math.abs(actual[i] - v) / Math.max(Math.abs(v), rms))));
  return worst;
}

const [B, T] = fx.context.dims;
const windows = Array.from({ length: B }, (_, i) => f64(fx.context).subarray(i * T, (i + 1) * T));

afterAll(() => clearSessionCache());

describe('chronos family', () => {
  it('tokenizer: ids, masks and scales as Chronos computes them', () => {
    const { boundaries, centres } = chronosBins(spec);
    expect(centres.length).toBe(spec.nTokens - spec.nSpecialTokens - 1);
    expect(centres[0]).toBeCloseTo(0.8, 6);
    expect(centres[centres.length - 1]).toBeCloseTo(1.2, 6);
    const ids = fx.tokenizer.input_ids.data;
    const mask = fx.tokenizer.attention_mask.data;
    windows.forEach((w, i) => {
      const t = chronosTokenize(w, spec, boundaries);
      expect(Array.from(t.ids)).toEqual(ids.slice(i * (T + 1), (i + 1) * (T + 1)));
      expect(Array.from(t.mask)).toEqual(mask.slice(i * (T + 1), (i + 1) * (T + 1)));
      expect(t.scale).toBeCloseTo(fx.tokenizer.scale[i], 4);
    });
    // Decoding: the first value token is centre 0; special tokens clamp to it.
    expect(chronosDecode(spec.nSpecialTokens + 1, spec, centres, 100)).toBeCloseTo(80, 4);
    expect(chronosDecode(0, spec, centres, 100)).toBeCloseTo(80, 4);
    expect(chronosDecode(spec.nTokens - 1, spec, centres, 100)).toBeCloseTo(120, 4);
  });

  it('encoder and decoder graphs match PyTorch to 1e-4', async () => {
    const enc = await openSession(loaded, { device: 'cpu', threads: 1 });
    const dec = await openSession(graphCard(loaded, loaded.card.decoder), { device: 'cpu', threads: 1 });
    const mask = i64(fx.tokenizer.attention_mask);
    const h = await enc.session.run({ input_ids: i64(fx.tokenizer.input_ids), attention_mask: mask });
    expect(maxRelativeError(h.encoder_hidden_states.data as Float32Array, fx.encoder.encoder_hidden_states)).toBeLessThan(1e-4);
    const kv = loaded.card.decoderCache;
    const names = Array.from({ length: kv.layers }, (_, i) => [`${i}.key`, `${i}.value`]).flat();
    const empty = (rows: number) => Object.fromEntries(names.map((n) => [`past_key_values.${n}`, new ort.Tensor('float32', new Float32Array(0), [rows, kv.heads, 0, kv.headDim])]));
    const ids = fx.decoder.decoder_input_ids;
    const steps = ids.dims[1];
    const out = await dec.session.run({ decoder_input_ids: i64(ids), encoder_hidden_states: h.encoder_hidden_states, attention_mask: mask, ...empty(B) });
    expect(out.logits.dims).toEqual([B, spec.vocabSize]);
    expect(maxRelativeError(out.logits.data as Float32Array, fx.decoder.logits)).toBeLessThan(1e-4);
    // The same logits from a cached prefix of 4 tokens and then the 5th alone (PyTorch recorded both).
    const cut = (from: number, to: number): Recorded => ({ dims: [B, to - from],
      data: Array.from({ length: B }, (_, r) => ids.data.slice(r * steps + from, r * steps + to)).flat() });
    const prefix = await dec.session.run({ decoder_input_ids: i64(cut(0, 4)), encoder_hidden_states: h.encoder_hidden_states, attention_mask: mask,
      ...empty(B) });
    const past = Object.fromEntries(names.map((n) => [`past_key_values.${n}`, prefix[`present.${n}`]]));
    const step = await dec.session.run({ decoder_input_ids: i64(cut(4, 5)), encoder_hidden_states: h.encoder_hidden_states, attention_mask: mask, ...past });
    expect(maxRelativeError(step.logits.data as Float32Array, fx.decoder.cached_logits)).toBeLessThan(1e-4);
    expect(maxRelativeError(step.logits.data as Float32Array, fx.decoder.logits)).toBeLessThan(1e-4);
    // One window's encoding with batch 1 broadcasts over several rows of decoder tokens.
    const [, S, D] = h.encoder_hidden_states.dims;
    const states0 = new ort.Tensor('float32', (h.encoder_hidden_states.data as Float32Array).slice(0, S * D), [1, S, D]);
    const mask0 = new ort.Tensor('int64', (mask.data as BigInt64Array).slice(0, S), [1, S]);
    const row0: Recorded = { dims: [3, steps], data: [0, 0, 0].flatMap(() => ids.data.slice(0, steps)) };
    const broadcast = await dec.session.run({ decoder_input_ids: i64(row0), encoder_hidden_states: states0, attention_mask: mask0, ...empty(3) });
    const expected0: Recorded = { dims: [3, spec.vocabSize], data: [0, 0, 0].flatMap(() => fx.decoder.logits.data.slice(0, spec.vocabSize)) };
    expect(maxRelativeError(broadcast.logits.data as Float32Array, expected0)).toBeLessThan(1e-4);
  });

  it('greedy decoding (temperature 0) draws the argmax of the recorded first-step logits, EOS banned', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const f = await model.forecast({ context: windows, horizon: 1, samples: 2, sampling: { temperature: 0 } });
    const { centres } = chronosBins(spec);
    const V = spec.vocabSize;
    const first = f64(fx.decoder.first_logits);
    windows.forEach((_, i) => {
      let best = -1;
      for (let v = 0; v < V; v++) if (v !== spec.eosTokenId && (best < 0 || first[i * V + v] > first[i * V + best])) best = v;
      const expected = chronosDecode(best, spec, centres, fx.tokenizer.scale[i]);
      expect(f.samples!.data[i * 2]).toBeCloseTo(expected, 3);
      expect(f.samples!.data[i * 2 + 1]).toBeCloseTo(expected, 3);
    });
  });

  it('sampled paths: the same for a seed whatever the batching, different for another seed, inside the bins', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const req = { context: windows, horizon: 12, samples: 6, seed: 5 };
    const a = await model.forecast(req);
    const b = await model.forecast({ ...req, sampling: { samplesPerBatch: 4 } });
    const c = await model.forecast({ ...req, seed: 6 });
    expect(Array.from(b.samples!.data)).toEqual(Array.from(a.samples!.data));
    expect(Array.from(c.samples!.data)).not.toEqual(Array.from(a.samples!.data));
    expect(a.meta).toMatchObject({ family: 'autoregressive', samplesFrom: 'model', samples: 6, sampling: { kvCache: 'cache', topK: 50, seed: 5 } });
    for (let i = 0; i < B; i++) {
      const s = fx.tokenizer.scale[i];
      for (const v of a.samples!.data.subarray(i * 6 * 12, (i + 1) * 6 * 12)) {
        expect(v).toBeGreaterThanOrEqual(0.8 * s - 1e-3);
        expect(v).toBeLessThanOrEqual(1.2 * s + 1e-3);
      }
    }
    // top-k 1 is greedy whatever the temperature
    const k1 = await model.forecast({ ...req, sampling: { topK: 1 } });
    const greedy = await model.forecast({ ...req, seed: 99, sampling: { temperature: 0 } });
    expect(Array.from(k1.samples!.data)).toEqual(Array.from(greedy.samples!.data));
  });

  it("cache and recompute give the same paths; device 'cuda' without CUDA is refused, naming the device", async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const req = { context: windows, horizon: 8, samples: 5, seed: 9 };
    const cached = await model.forecast({ ...req, sampling: { kvCache: 'cache' } });
    const recomputed = await model.forecast({ ...req, sampling: { kvCache: 'recompute' } });
    expect(cached.meta.sampling!.kvCache).toBe('cache');
    expect(recomputed.meta.sampling!.kvCache).toBe('recompute');
    expect((await model.forecast(req)).meta.sampling!.kvCache).toBe('cache'); // auto on the CPU
    // Equal logits up to float rounding give the same tokens unless a draw falls on a bin edge.
    expect(Array.from(recomputed.samples!.data)).toEqual(Array.from(cached.samples!.data));
    await clearSessionCache();
    const opened = openModel(CARD, { device: 'cuda' });
    await opened.then(
      async (m) => expect((await m.forecast({ context: windows[0], horizon: 1, samples: 1 })).meta.device).toBe('cuda'),
      (err: Error) => expect(err.message).toMatch(/device 'cuda' cannot load/),
    );
  });
});

describe('chronos in a sampler sweep', () => {
  it('searchSamplerSettings scores a grid of temperatures and top-p on the Chronos card', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const closes = windows[0].slice();
    const series = [{ symbol: 'RW', closes, validation: [24, 26], test: [30, 32] }];
    const grid = { samples: [4], aggregations: ['median'], lookbacks: [20], temperatures: [0.5, 1.5], topPs: [1, 0.5] };
    const r = await searchSamplerSettings(model, series, { grid, horizon: 3, seed: 1 });
    expect(r.results).toHaveLength(4);
    for (const row of r.results) expect(row.validation.n === 2 && Number.isFinite(row.validation.crps) && row.validation.crps > 0).toBe(true);
    // Different sampler settings give different paths, hence different scores.
    expect(new Set(r.results.map((x) => x.validation.crps)).size).toBeGreaterThan(1);
  });
});
