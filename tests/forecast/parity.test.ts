/**
 * Parity of the shipped ONNX models with PyTorch: inputs and outputs recorded by
 * models/train/export.py at export time, run again here through onnxruntime-node.
 * Tolerance: |onnx - torch| <= 1e-4 * max(|torch|, rms(torch tensor)); the floor keeps
 * near-zero logits from demanding more than float32 rounding can give.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCard } from '../../src/forecast/card';
import { clearSessionCache, openSession } from '../../src/forecast/runtime';

const MODELS = join(__dirname, '..', '..', 'models');
type Recorded = { dims: number[]; data: (number | null)[] };

/** A parity fixture: recorded tensors by stage (`inputs`, `outputs`, `prefill`, `step`) and tensor name. */
type Fixture = Record<string, Record<string, Recorded>>;

function fixture(card: string): Fixture {
  const loaded = loadCard(join(MODELS, card));
  return JSON.parse(readFileSync(join(MODELS, loaded.card.parityFixture!), 'utf8')) as Fixture;
}

function maxRelativeError(actual: ArrayLike<number>, expected: Recorded): number {
  const exp = expected.data.map((v) => (v === null ? NaN : v));
  expect(actual.length).toBe(exp.length);
  const rms = Math.sqrt(exp.reduce((a, v) => a + v * v, 0) / exp.length);
  let worst = 0;
  exp.forEach((v, i) => (worst = Math.max(worst, Math.abs(actual[i] - v) / Math.max(Math.abs(v), rms))));
  return worst;
}

const f32 = (r: Recorded) => new ort.Tensor('float32', Float32Array.from(r.data, (v) => (v === null ? NaN : v)), r.dims);
const i64 = (r: Recorded) => new ort.Tensor('int64', BigInt64Array.from(r.data, (v) => BigInt(v as number)), r.dims);

afterAll(() => clearSessionCache());

describe('ONNX matches PyTorch to 1e-4 relative', () => {
  it('quantile model: full, left-padded, holed and flat windows', async () => {
    const fx = fixture('qb-quantile-s.json');
    const { session } = await openSession(loadCard(join(MODELS, 'qb-quantile-s.json')), { device: 'cpu', threads: 1 });
    const out = await session.run({ context: f32(fx.inputs.context) });
    expect(out.quantiles.dims).toEqual(fx.outputs.quantiles.dims);
    expect(maxRelativeError(out.quantiles.data as Float32Array, fx.outputs.quantiles)).toBeLessThan(1e-4);
  });

  it('autoregressive model: prefill with an empty cache, one cached step, then rows sharing their window\'s context', async () => {
    const fx = fixture('qb-ar-s.json');
    const loaded = loadCard(join(MODELS, 'qb-ar-s.json'));
    const { session } = await openSession(loaded, { device: 'cpu', threads: 1 });
    if (loaded.card.family !== 'autoregressive' || !loaded.card.kvCache?.sharedContext) {
      throw new Error('qb-ar-s.json must be an autoregressive card with a shared-context kvCache');
    }
    const kv = loaded.card.kvCache;
    const names: string[] = [];
    for (let i = 0; i < kv.layers; i++) for (const p of ['key', 'value']) names.push(`${i}.${p}`);
    const empty = (rows: number) => new ort.Tensor('float32', new Float32Array(0), [rows, kv.kvHeads, 0, kv.headDim]);
    const [b] = fx.prefill.input_ids.dims;
    const feeds: Record<string, ort.Tensor> = { input_ids: i64(fx.prefill.input_ids) };
    for (const n of names) feeds[`context.${n}`] = feeds[`past_key_values.${n}`] = empty(b);
    const first = await session.run(feeds);
    expect(maxRelativeError(first.logits.data as Float32Array, fx.prefill.logits)).toBeLessThan(1e-4);
    expect(maxRelativeError(first['present.0.key'].data as Float32Array, fx.prefill['present.0.key'])).toBeLessThan(1e-4);
    // The reference steps ran the plain cached network (each row its own copy of the whole cache).
    const step: Record<string, ort.Tensor> = { input_ids: i64(fx.step.input_ids) };
    for (const n of names) {
      step[`context.${n}`] = first[`present.${n}`];
      step[`past_key_values.${n}`] = empty(b);
    }
    const second = await session.run(step);
    expect(maxRelativeError(second.logits.data as Float32Array, fx.step.logits)).toBeLessThan(1e-4);
    expect(second['present.0.key'].dims).toEqual([b, kv.kvHeads, 1, kv.headDim]);
    // Rows window-major, R per window, two steps on their own tokens; the context is fed once per window.
    const [steps, rows] = fx.rows.input_ids.dims;
    expect(rows % b).toBe(0);
    let past: Record<string, ort.Tensor> = Object.fromEntries(names.map((n) => [n, empty(rows)]));
    let last: ort.InferenceSession.ReturnType | null = null;
    for (let k = 0; k < steps; k++) {
      const ids = fx.rows.input_ids.data.slice(k * rows, (k + 1) * rows);
      const run: Record<string, ort.Tensor> = { input_ids: i64({ dims: [rows, 1], data: ids }) };
      for (const n of names) {
        run[`context.${n}`] = first[`present.${n}`];
        run[`past_key_values.${n}`] = past[n];
      }
      last = await session.run(run);
      const out = last;
      past = Object.fromEntries(names.map((n) => [n, out[`present.${n}`]]));
    }
    expect(last!.logits.dims).toEqual(fx.rows.logits.dims);
    expect(maxRelativeError(last!.logits.data as Float32Array, fx.rows.logits)).toBeLessThan(1e-4);
    // Rows of the same window on different tokens differ: the test can tell rows apart.
    const l = last!.logits.data as Float32Array;
    const V = loaded.card.tokenizer.vocabSize;
    expect(Math.max(...Array.from(l.subarray(0, V), (v, i) => Math.abs(v - l[V + i])))).toBeGreaterThan(1e-3);
  });
});
