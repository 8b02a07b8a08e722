/**
 * `quantbook models export|list`, and the exported Chronos-Bolt / Chronos fixture cards through
 * `forecast`, `eval --compare` and `backtest` on recorded data. The Python export runs end to end
 * only where /usr/bin/python3 (or $PYTHON) imports torch; CI without Python skips it, saying why.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportFamilies, exportPlan } from '../../src/cli/models';
import { loadCard } from '../../src/forecast/card';
import { openModel } from '../../src/forecast/openModel';
import { clearSessionCache } from '../../src/forecast/runtime';
import { runCli } from '../support/cli';
import { realData } from '../support/paths';

const FM = join(__dirname, '..', 'forecast', 'fixtures', 'fm');
const CKPT = join(FM, 'checkpoints');
const PYTHON = process.env.PYTHON || '/usr/bin/python3';
const torchCheck = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
const noTorch = torchCheck.status === 0 ? null : `${PYTHON} cannot import torch and onnx (${(torchCheck.stderr || String(torchCheck.error)).trim().split('\n').pop()})`;
const tmp = () => mkdtempSync(join(tmpdir(), 'qb-models-'));
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
type Recorded = { dims: number[]; data: (number | null)[] };

afterAll(() => clearSessionCache());

describe('models list', () => {
  it('lists the cards of a folder with family, size, context and horizon; other JSON is counted', async () => {
    const r = await runCli(['models', 'list', '--dir', FM]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/chronos-bolt-rand\s+chronos-bolt\s+0\.27 MB\s+2048\s+64\s+42\.0k/);
    expect(r.out).toMatch(/chronos-t5-rand\s+chronos\s+0\.91 MB\s+512\s+64\s+76\.1k/);
    expect(r.out).toMatch(/2 card\(s\); 2 other JSON file\(s\) \(not model cards\) not listed/);
    const shipped = await runCli(['models', 'list', '--dir', join(__dirname, '..', '..', 'models'), '--json']);
    const rows = JSON.parse(shipped.out) as { name: string; evaluation: Record<string, unknown> | null }[];
    expect(rows.map((x) => x.name)).toEqual(['qb-ar-s', 'qb-quantile-s']);
    const text = await runCli(['models', 'list', '--dir', join(__dirname, '..', '..', 'models')]);
    expect(text.out).toMatch(/qb-quantile-s: skill on/);
    // The card's nested tables (raw and with the conformal layer) are printed under their keys.
    expect(text.out).toMatch(/raw:\nforecaster\s+rank\s+crps/);
    expect(text.out).toMatch(/conformal:\nforecaster\s+rank\s+crps/);
    expect(text.out).toMatch(/qb-quantile-s\s+1\s+0\.000157\s+0\.000019/);
  });

  it('a card whose graph is missing or corrupt is listed as unusable, with the reason', async () => {
    const dir = tmp();
    cpSync(join(FM, 'chronos-bolt-rand.json'), join(dir, 'cb.json'));
    const r = await runCli(['models', 'list', '--dir', dir]);
    expect(r.out).toMatch(/cb\.json: missing chronos-bolt-rand\.onnx/);
    const none = await runCli(['models', 'list', '--dir', join(dir, 'nope')]);
    expect(none.code).not.toBe(0);
    expect(none.err).toMatch(/models folder not found/);
  });
});

describe('models export', () => {
  it('finds a script per family file and says which exist when the family is unknown', async () => {
    expect(exportFamilies()).toEqual(['chronos', 'chronos-bolt', 'kronos', 'toto']);
    const plan = exportPlan({ family: 'chronos-bolt', checkpoint: CKPT, out: 'x/y', name: 'n' }, { PYTHON: '/opt/py' });
    expect(plan.python).toBe('/opt/py');
    expect(plan.script.endsWith(join('models', 'export', 'chronos_bolt.py'))).toBe(true);
    expect(plan.args).toEqual(['--checkpoint', CKPT, '--out', join(process.cwd(), 'x', 'y'), '--name', 'n']);
    const r = await runCli(['models', 'export', '--family', 'prophet', '--checkpoint', CKPT, '--out', join(tmp(), 'p')]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/no export script for family prophet: .*chronos, chronos-bolt/);
    const missing = await runCli(['models', 'export', '--family', 'chronos', '--checkpoint', join(tmp(), 'none'), '--out', join(tmp(), 'p')]);
    expect(missing.err).toMatch(/checkpoint folder not found/);
  });

  it('says so when Python is not there', async () => {
    const saved = process.env.PYTHON;
    process.env.PYTHON = '/nonexistent/python3';
    try {
      const r = await runCli(['models', 'export', '--family', 'chronos', '--checkpoint', join(CKPT, 'chronos-t5-rand'), '--out', join(tmp(), 'p')]);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(/Python not found at \/nonexistent\/python3: set PYTHON/);
    } finally {
      if (saved === undefined) delete process.env.PYTHON;
      else process.env.PYTHON = saved;
    }
  });

  it.skipIf(noTorch !== null)(`exports both random checkpoints end to end with Python (${noTorch ?? 'torch found'})`, async () => {
    const dir = tmp();
    for (const [family, ckpt, fixture] of [
      ['chronos-bolt', 'chronos-bolt-rand', 'chronos-bolt-rand'],
      ['chronos', 'chronos-t5-rand', 'chronos-t5-rand'],
    ] as const) {
      const out = join(dir, fixture);
      const r = await runCli(['models', 'export', '--family', family, '--checkpoint', join(CKPT, ckpt), '--out', out]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(new RegExp(`${fixture} \\(${family}\\) ready`));
      const loaded = loadCard(`${out}.json`);
      expect(loaded.card.sha256).toBe(sha(loaded.onnxPath));
      // The same weights and inputs give the outputs recorded in the committed fixture.
      const fresh = JSON.parse(readFileSync(`${out}.parity.json`, 'utf8')) as Record<string, Record<string, Recorded>>;
      const committed = JSON.parse(readFileSync(join(FM, `${fixture}.parity.json`), 'utf8')) as Record<string, Record<string, Recorded>>;
      const [part, key] = family === 'chronos' ? ['decoder', 'logits'] : ['outputs', 'quantiles'];
      const a = fresh[part][key].data as number[];
      const b = committed[part][key].data as number[];
      expect(a.length).toBe(b.length);
      a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(b[i]))));
      const model = await openModel(`${out}.json`, { device: 'cpu' });
      const f = await model.forecast({ context: Float64Array.from({ length: 40 }, (_, i) => 100 + Math.sin(i)), horizon: 4, samples: 3, seed: 1 });
      expect(f.samples!.dims).toEqual([1, 3, 4]);
    }
    // A second export to the same prefix needs --force; a folder without weights is named.
    const again = await runCli(['models', 'export', '--family', 'chronos-bolt', '--checkpoint', join(CKPT, 'chronos-bolt-rand'), '--out', join(dir, 'chronos-bolt-rand')]);
    expect(again.err).toMatch(/chronos-bolt-rand\.json exists: pass --force/);
    const empty = join(dir, 'empty');
    cpSync(join(CKPT, 'chronos-bolt-rand', 'config.json'), join(empty, 'config.json'));
    const noWeights = await runCli(['models', 'export', '--family', 'chronos-bolt', '--checkpoint', empty, '--out', join(dir, 'e')]);
    expect(noWeights.err).toMatch(/no weights in .*empty: expected model\.safetensors or pytorch_model\.bin/);
    rmSync(join(empty, 'config.json'));
    const noConfig = await runCli(['models', 'export', '--family', 'chronos', '--checkpoint', empty, '--out', join(dir, 'e')]);
    expect(noConfig.err).toMatch(/config\.json is missing/);
    expect(existsSync(join(dir, 'e.json'))).toBe(false);
  }, 300_000);
});

describe('the fixture cards through the CLI on recorded data', () => {
  const BTC30 = realData('crypto-1m', 'UNITTEST_BTC-30m.feather');
  const PERP = realData('perp', 'XRP_USDT_USDT-5m-futures.feather');
  const bolt = join(FM, 'chronos-bolt-rand.json');
  const t5 = join(FM, 'chronos-t5-rand.json');

  it('eval --compare scores both families with a baseline on the same origins', async () => {
    const r = await runCli(['eval', '--data', BTC30, '--compare', `${bolt},${t5},naive`, '--horizon', '5', '--every', '300', '--samples', '10', '--lookback', '64', '--device', 'cpu', '--json']);
    expect(r.code, r.err).toBe(0);
    const board = JSON.parse(r.out) as { origins: number; rows: { name: string; crps: { mean: number }; pooled: { fallbacks?: number } }[] };
    expect(board.rows.map((x) => x.name).sort()).toEqual([bolt, t5, 'naive'].sort());
    expect(board.origins).toBe(7);
    for (const row of board.rows) expect(Number.isFinite(row.crps.mean) && row.crps.mean > 0).toBe(true);
  }, 120_000);

  it('forecast writes a summary from Chronos paths; backtest trades on Chronos-Bolt quantiles', async () => {
    const out = tmp();
    const f = await runCli(['forecast', '--data', BTC30, '--symbol', 'BTC', '--session', '24x7', '--model', t5, '--samples', '20', '--horizon', '10', '--seed', '2', '--device', 'cpu', '--no-png', '--json', '--out', out]);
    expect(f.code, f.err).toBe(0);
    const summary = JSON.parse(f.out) as { model: { name: string; family: string; pathSource: string }; samples: number; horizon: number };
    expect(summary.model).toMatchObject({ name: 'chronos-t5-rand', family: 'autoregressive', pathSource: 'model' });
    expect([summary.samples, summary.horizon]).toEqual([20, 10]);
    const bt = tmp();
    const b = await runCli(['backtest', '--data', PERP, '--class', 'perp', '--days', '1', '--mc', '0', '--forecaster', 'model', '--model', bolt, '--horizon', '5', '--device', 'cpu', '--out', bt]);
    expect(b.code, b.err).toBe(0);
    expect(b.out).toMatch(/forecaster fallback windows\s+0/);
    expect(existsSync(join(bt, 'backtest-chronos-bolt-rand.json'))).toBe(true);
  }, 120_000);
});
