import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/core/errors';
import { loadCard } from '../../src/forecast/card';
import { openModel } from '../../src/forecast/openModel';
import { checkGraph, clearSessionCache, openSession } from '../../src/forecast/runtime';

const FIX = join(__dirname, 'fixtures');
const tiny = join(FIX, 'tiny-sqrt.json');
/** The tiny card as parsed JSON: the keys the tests below edit, the others passed through as they are. */
type CardJson = {
  [key: string]: unknown;
  file: string;
  sha256?: string;
  contextLength: number;
  quantileLevels: number[];
  inputs: { name: string; shape: (string | number)[] }[];
  outputs: { dtype: string; shape: (string | number)[] }[];
};
const tinyCard = JSON.parse(readFileSync(tiny, 'utf8')) as CardJson;
const dir = mkdtempSync(join(tmpdir(), 'qb-runtime-'));
copyFileSync(join(FIX, 'tiny-sqrt.onnx'), join(dir, 'tiny-sqrt.onnx'));

/** Writes a variant of the tiny card beside a copy of its model and returns its path. */
function variant(name: string, change: (card: CardJson) => void): string {
  const card = structuredClone(tinyCard);
  change(card);
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify(card));
  return p;
}

afterAll(() => clearSessionCache());

describe('model cards', () => {
  it('reads a valid card and resolves its ONNX file beside it', () => {
    const loaded = loadCard(tiny);
    expect(loaded.card.family).toBe('quantile');
    expect(loaded.onnxPath).toBe(join(FIX, 'tiny-sqrt.onnx'));
  });

  it('names the file and field of what is wrong', () => {
    expect(() => loadCard(join(dir, 'nope.json'))).toThrow(/cannot be read.*nope\.json/);
    const notJson = join(dir, 'bad.json');
    writeFileSync(notJson, '{ nope');
    expect(() => loadCard(notJson)).toThrow(/not valid JSON/);
    expect(() => loadCard(variant('no-sha', (c) => delete c.sha256))).toThrow(/key "sha256"/);
    expect(() => loadCard(variant('levels', (c) => (c.quantileLevels = [0.5, 0.1, 0.9])))).toThrow(/quantileLevels must increase/);
    expect(() => loadCard(variant('q-shape', (c) => (c.outputs[0].shape = ['batch', 4, 2])))).toThrow(/dimension 1 must be 3/);
  });
});

describe('sessions', () => {
  it('runs the graph the card describes', async () => {
    const model = await openModel(tiny, { device: 'cpu' });
    const ctx = new Float64Array([1, 1, 1, 1, 1, 1, 1004, 1009]);
    const f = await model.forecast({ context: ctx, horizon: 2 });
    expect(Array.from(f.quantiles!.values.data)).toEqual([2, 3, 2, 3, 2, 3]);
    expect(f.meta).toMatchObject({ model: 'tiny-sqrt', device: 'cpu', batch: 1, horizon: 2 });
  });

  it('caches one session per model, device and threads', async () => {
    const loaded = loadCard(tiny);
    const a = await openSession(loaded, { device: 'cpu', threads: 1 });
    const b = await openSession(loaded, { device: 'cpu', threads: 1 });
    const c = await openSession(loaded, { device: 'cpu', threads: 2 });
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('turns NaN coming out of the model into a ModelError naming window and step', async () => {
    const model = await openModel(tiny, { device: 'cpu' });
    const err = await model.forecast({ context: new Float64Array([1, 1, 1, 1, 1, 1, 1004, 999]), horizon: 2 }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err.message).toMatch(/produced NaN for window 0, level 0, step 2/);
  });

  it('refuses a file whose sha256 differs from the card', async () => {
    const p = variant('sha', (c) => (c.sha256 = '0'.repeat(64)));
    await expect(openModel(p, { device: 'cpu' })).rejects.toThrow(/sha256 of the ONNX file is [0-9a-f]{64}, the card says 0000/);
  });

  it('refuses a missing or corrupt ONNX file', async () => {
    await expect(openModel(variant('missing', (c) => (c.file = 'gone.onnx')), { device: 'cpu' })).rejects.toThrow(/cannot be read.*gone\.onnx/);
    const junk = Buffer.from('this is not a protobuf');
    writeFileSync(join(dir, 'junk.onnx'), junk);
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256').update(junk).digest('hex');
    await expect(openModel(variant('junk', (c) => Object.assign(c, { file: 'junk.onnx', sha256: sha })), { device: 'cpu' })).rejects.toThrow(
      /cannot be loaded \(corrupt or not an ONNX model\)/,
    );
  });

  it('refuses a card that lies about its graph', async () => {
    const open = (name: string, change: (c: CardJson) => void) => openModel(variant(name, change), { device: 'cpu' });
    await expect(open('name', (c) => (c.inputs[0].name = 'past_values'))).rejects.toThrow(/input "past_values" is not in the graph \(graph inputs: context\)/);
    // the family contract catches a wrong dtype in the card itself ...
    await expect(open('dtype', (c) => (c.outputs[0].dtype = 'float16'))).rejects.toThrow(/quantiles must be float32/);
    // ... and the graph check catches it for any card that reaches the session
    const session = (await openSession(loadCard(tiny), { device: 'cpu', threads: 1 })).session;
    const card = structuredClone(loadCard(tiny).card);
    card.outputs[0].dtype = 'float16';
    expect(() => checkGraph(card, session, 'tiny.onnx')).toThrow(/output "quantiles" is float32 in the graph, float16 in the card/);
    await expect(
      open('dim', (c) => {
        c.contextLength = 16;
        c.inputs[0].shape = ['batch', 16];
      }),
    ).rejects.toThrow(/input "context" dimension 1 is 8 in the graph, 16 in the card/);
  });

  it("device 'cuda' that cannot load is a ModelError naming what is missing, never a CPU run", async () => {
    const err = await openModel(tiny, { device: 'cuda' }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err.location.key).toBe('device');
    // without `npm run setup:cuda` the provider libraries are missing; with it, the CUDA 13 runtime (libcublasLt.so.13)
    expect(err.message).toMatch(/providers_(shared|cuda)\.so not found|libcu\w+\.so\.13/);
    expect(err.message).toMatch(/CUDA 13 runtime with cuDNN 9 on LD_LIBRARY_PATH/);
  });

  it("device 'auto' falls back to the CPU with one log line", async () => {
    const lines: string[] = [];
    const model = await openModel(tiny, { device: 'auto', threads: 3, log: (l) => lines.push(l) });
    const f = await model.forecast({ context: new Float64Array(8).fill(1001), horizon: 1 });
    expect(f.meta.device).toBe('cpu');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/tiny-sqrt: CUDA unavailable \(.*\); running on CPU/);
  });
});
