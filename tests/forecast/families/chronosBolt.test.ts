/**
 * Chronos-Bolt in quantbook: the random-weight checkpoint in the published layout
 * (tests/forecast/fixtures/fm/checkpoints/chronos-bolt-rand, built by
 * models/export/testdata/make_chronos_checkpoints.py) exported by models/export/chronos_bolt.py;
 * ONNX through onnxruntime-node against the PyTorch outputs recorded at export, and the forecaster.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCard } from '../../../src/forecast/card';
import { boltContextWidth } from '../../../src/forecast/families/chronosBolt';
import { openModel } from '../../../src/forecast/openModel';
import { clearSessionCache, openSession } from '../../../src/forecast/runtime';
import { ModelError } from '../../../src/core/errors';

const FM = join(__dirname, '..', 'fixtures', 'fm');
const CARD = join(FM, 'chronos-bolt-rand.json');
type Recorded = { dims: number[]; data: (number | null)[] };
const parity = JSON.parse(readFileSync(join(FM, 'chronos-bolt-rand.parity.json'), 'utf8')) as {
  inputs: { context: Recorded };
  outputs: { quantiles: Recorded };
};
const f64 = (r: Recorded) => Float64Array.from(r.data, (v) => (v === null ? NaN : v));

/** max |a - e| / max(|e|, rms(e)): the parity tolerance of tests/forecast/parity.test.ts. */
function maxRelativeError(actual: ArrayLike<number>, expected: Recorded): number {
  const exp = f64(expected);
  expect(actual.length).toBe(exp.length);
  const rms = Math.sqrt(exp.reduce((a, v) => a + v * v, 0) / exp.length);
  let worst = 0;
  exp.forEach((v, i) => (worst = Math.max(worst, Math.abs(actual[i] - v) / Math.max(Math.abs(v), rms))));
  return worst;
}

afterAll(() => clearSessionCache());

describe('chronos-bolt family', () => {
  it('the graph matches PyTorch to 1e-4 on full, left-padded, holed and flat windows', async () => {
    const { session } = await openSession(loadCard(CARD), { device: 'cpu', threads: 1 });
    const ctx = parity.inputs.context;
    const out = await session.run({ context: new ort.Tensor('float32', Float32Array.from(f64(ctx)), ctx.dims) });
    expect(out.quantiles.dims).toEqual(parity.outputs.quantiles.dims);
    expect(maxRelativeError(out.quantiles.data as Float32Array, parity.outputs.quantiles)).toBeLessThan(1e-4);
  });

  it('the forecaster pads windows to whole patches and gives the recorded quantiles', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    expect(model.info).toMatchObject({ family: 'quantile', contextLength: 2048, maxHorizon: 64, quantileLevels: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] });
    const [b, t] = parity.inputs.context.dims;
    const all = f64(parity.inputs.context);
    // Window 1 is recorded left-padded with NaN: passing only its observed tail must give the same numbers.
    const windows = Array.from({ length: b }, (_, i) => all.subarray(i * t, (i + 1) * t));
    let firstObserved = 0;
    while (Number.isNaN(windows[1][firstObserved])) firstObserved++;
    windows[1] = windows[1].slice(firstObserved);
    const f = await model.forecast({ context: windows, horizon: 64, samples: 50, seed: 3 });
    expect(f.quantiles!.values.dims).toEqual([b, 9, 64]);
    expect(maxRelativeError(f.quantiles!.values.data, parity.outputs.quantiles)).toBeLessThan(1e-4);
    expect(f.samples!.dims).toEqual([b, 50, 64]);
    expect(f.meta).toMatchObject({ family: 'quantile', device: 'cpu', samplesFrom: 'quantiles', samples: 50 });
    // Paths come from the quantiles: the middle path sits between the 0.4 and 0.6 quantiles.
    const q = f.quantiles!.values.data;
    const mid = f.samples!.data[25 * 64];
    expect(mid).toBeGreaterThanOrEqual(q[3 * 64]);
    expect(mid).toBeLessThanOrEqual(q[5 * 64]);
    const short = await model.forecast({ context: windows[0], horizon: 30 });
    expect(short.quantiles!.values.data[4 * 30]).toBeCloseTo(f.quantiles!.values.data[4 * 64], 4);
  });

  it('rejects infinite values and horizons beyond the card, naming them', async () => {
    const model = await openModel(CARD, { device: 'cpu' });
    const w = new Float64Array([1, 2, Infinity, 3]);
    await expect(model.forecast({ context: w, horizon: 5 })).rejects.toThrow(/value Infinity at position 2 of window 0/);
    await expect(model.forecast({ context: new Float64Array([1, 2]), horizon: 65 })).rejects.toThrow(ModelError);
  });

  it('context width: longest window rounded up to whole patches, capped at the context length', () => {
    expect(boltContextWidth(100, 2048, 16)).toBe(112);
    expect(boltContextWidth(5000, 2048, 16)).toBe(2048);
    expect(boltContextWidth(0, 2048, 16)).toBe(16);
  });

  it("device 'auto' falls back to the CPU with one line saying why, as for every card", async () => {
    await clearSessionCache();
    const lines: string[] = [];
    const model = await openModel(CARD, { device: 'auto', log: (l) => lines.push(l) });
    const f = await model.forecast({ context: new Float64Array([1, 2, 3, 4]), horizon: 3 });
    if (f.meta.device === 'cpu') expect(lines.join('\n')).toMatch(/chronos-bolt-rand: CUDA unavailable .*running on CPU/);
    else expect(f.meta.device).toBe('cuda');
  });
});

describe('chronos-bolt and chronos card contracts', () => {
  /** A chronos card as parsed JSON: the keys the tests below edit (some only on one family), the others passed through. */
  type CardJson = {
    [key: string]: unknown;
    contextLength: number;
    patchSize?: number;
    outputs: { shape: (string | number)[] }[];
    tokenizer: { eosTokenId: number; vocabSize: number };
    decoder: { sha256: string; inputs: unknown[] };
    decoderCache: { heads: number };
  };
  const edited = (file: string, edit: (c: CardJson) => void): string => {
    const card = JSON.parse(readFileSync(join(FM, file), 'utf8')) as CardJson;
    edit(card);
    const dir = mkdtempSync(join(tmpdir(), 'qb-fmcard-'));
    const path = join(dir, file);
    writeFileSync(path, JSON.stringify(card));
    return path;
  };

  it('names the field of a card that breaks its family contract', () => {
    expect(() => loadCard(edited('chronos-bolt-rand.json', (c) => (c.contextLength = 2040)))).toThrow(/contextLength 2040 must be a multiple of patchSize 16.*key "contextLength"/);
    expect(() => loadCard(edited('chronos-bolt-rand.json', (c) => (c.outputs[0].shape = ['batch', 9, 32])))).toThrow(/dimension 2 must be 64/);
    expect(() => loadCard(edited('chronos-bolt-rand.json', (c) => delete c.patchSize))).toThrow(ModelError);
    expect(() => loadCard(edited('chronos-t5-rand.json', (c) => (c.tokenizer.eosTokenId = 5)))).toThrow(/pad and EOS ids must be special tokens/);
    expect(() => loadCard(edited('chronos-t5-rand.json', (c) => (c.tokenizer.vocabSize = 100)))).toThrow(/vocabSize 100 must hold the 4096 tokens/);
    expect(() => loadCard(edited('chronos-t5-rand.json', (c) => c.decoder.inputs.pop()))).toThrow(/2-layer cache has 7 inputs and 5 outputs/);
    expect(() => loadCard(edited('chronos-t5-rand.json', (c) => (c.decoderCache.heads = 4)))).toThrow(/past_key_values\.0\.key dimension 1 must be 4/);
  });

  it('a decoder whose sha256 differs from the card is refused when the model opens', async () => {
    const path = edited('chronos-t5-rand.json', (c) => (c.decoder.sha256 = '0'.repeat(64)));
    for (const f of ['chronos-t5-rand.encoder.onnx', 'chronos-t5-rand.decoder.onnx']) copyFileSync(join(FM, f), join(dirname(path), f));
    await expect(openModel(path, { device: 'cpu' })).rejects.toThrow(/sha256 of the ONNX file is [0-9a-f]{64}, the card says 0{64}/);
  });
});
