/**
 * The Python export end to end: a random-weight checkpoint in the authors' published layout is
 * written, exported by models/export/<family>.py, and the card it writes opens and forecasts here,
 * matching the PyTorch greedy path recorded by the same run. Needs /usr/bin/python3 with torch
 * and onnx (CI has no Python: skipped there, saying why).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openModel } from '../../../src/forecast/openModel';
import { clearSessionCache } from '../../../src/forecast/runtime';

const ROOT = join(__dirname, '..', '..', '..');
const PYTHON = '/usr/bin/python3';
// Asynchronous, so the test worker keeps answering vitest while Python runs.
const python = (args: string[]) => promisify(execFile)(PYTHON, args);
const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
const hasTorch = probe.status === 0;
const why = hasTorch ? '' : ` (skipped: ${PYTHON} -c 'import torch, onnx' failed: ${(probe.error?.message ?? probe.stderr ?? '').trim().split('\n').pop()})`;

afterAll(() => clearSessionCache());

describe(`Python export, end to end${why}`, () => {
  it.skipIf(!hasTorch)('kronos.py: random checkpoint -> ONNX graphs and card -> forecast equal to the recorded greedy path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-kronos-export-'));
    const script = join(ROOT, 'models', 'export', 'kronos.py');
    await python([script, '--random-checkpoint', join(dir, 'ckpt')]);
    // A missing tokenizer folder is said plainly.
    const missing = await python([script, '--checkpoint', join(dir, 'ckpt', 'model'), '--tokenizer', join(dir, 'nope'), '--out', join(dir, 'x')]).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/tokenizer folder .*nope not found: pass --tokenizer DIR/);
    await python([script, '--checkpoint', join(dir, 'ckpt'), '--out', join(dir, 'out', 'k'), '--name', 'k-e2e', '--max-context', '48', '--min-context', '16', '--horizon', '64']);
    const card = join(dir, 'out', 'k.json');
    const fx = JSON.parse(readFileSync(join(dir, 'out', 'k.parity.json'), 'utf8'));
    const L = fx.bars.dims[0];
    const col = (j: number) => Float64Array.from({ length: L }, (_, i) => fx.bars.data[i * 6 + j]);
    const model = await openModel(card, { device: 'cpu' });
    expect(model.info).toMatchObject({ name: 'k-e2e', family: 'kronos', contextLength: 48 });
    const f = await model.forecast({
      context: col(3),
      contextBars: { timeMs: Float64Array.from(fx.timesMs.slice(0, L)), open: col(0), high: col(1), low: col(2), volume: col(4) },
      horizon: fx.greedy.horizon,
      samples: 1,
      sampling: { temperature: 0 },
    });
    const expected = Array.from({ length: fx.greedy.horizon }, (_, h) => fx.greedy.bars.data[h * 6 + 3]);
    Array.from(f.samples!.data).forEach((v, h) => expect(Math.abs(v - expected[h])).toBeLessThan(1e-4 * Math.max(1, Math.abs(expected[h]))));
  }, 120_000);

  it.skipIf(!hasTorch)('toto.py: random checkpoint -> ONNX graph and card -> mixture-mean forecast equal to the recorded path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-toto-export-'));
    const script = join(ROOT, 'models', 'export', 'toto.py');
    await python([script, '--random-checkpoint', join(dir, 'ckpt')]);
    // A folder without config.json is said plainly.
    const missing = await python([script, '--checkpoint', dir, '--out', join(dir, 'x')]).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/Toto checkpoint: .*config\.json is missing: the checkpoint folder must hold the config\.json published with the weights/);
    // The plain layout (Toto without xFormers: mlp.0 / mlp.2, no `model.` prefix, freqs saved) loads to the same model.
    const check = [
      'import sys, os, shutil, torch',
      `sys.path.insert(0, ${JSON.stringify(join(ROOT, 'models', 'export'))})`,
      'import toto, common as c',
      `src, dst = ${JSON.stringify(join(dir, 'ckpt'))}, ${JSON.stringify(join(dir, 'plain'))}`,
      "st = c.read_safetensors(os.path.join(src, 'model.safetensors'))",
      "plain = {k[6:].replace('mlp.0.w12.', 'mlp.0.').replace('mlp.0.w3.', 'mlp.2.'): v for k, v in st.items()}",
      "plain['transformer.rotary_emb.freqs'] = torch.zeros(4)",
      'os.makedirs(dst)',
      "shutil.copy(os.path.join(src, 'config.json'), dst)",
      "c.write_safetensors(os.path.join(dst, 'model.safetensors'), plain)",
      'a, _ = toto.load_checkpoint(src)',
      'b, _ = toto.load_checkpoint(dst)',
      'x = torch.randn(2, 12)',
      "print(sorted(plain)[0], all(torch.equal(u, v) for u, v in zip(a(x), b(x))))",
    ].join('\n');
    const layouts = await python(['-c', check]);
    expect(layouts.stdout.trim()).toBe('output_distribution.df.bias True');
    await python([script, '--checkpoint', join(dir, 'ckpt'), '--out', join(dir, 'out', 't'), '--name', 't-e2e', '--max-context', '32', '--min-context', '8', '--horizon', '16']);
    const fx = JSON.parse(readFileSync(join(dir, 'out', 't.parity.json'), 'utf8'));
    const model = await openModel(join(dir, 'out', 't.json'), { device: 'cpu' });
    expect(model.info).toMatchObject({ name: 't-e2e', family: 'toto', contextLength: 32, maxHorizon: 16 });
    const f = await model.forecast({ context: Float64Array.from(fx.close), horizon: fx.meanPath.horizon, samples: 1, sampling: { temperature: 0 } });
    const expected: number[] = fx.meanPath.close;
    Array.from(f.samples!.data).forEach((v, h) => expect(Math.abs(v - expected[h])).toBeLessThan(1e-4 * Math.max(1, Math.abs(expected[h]))));
  }, 120_000);
});
