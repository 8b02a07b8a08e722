/**
 * `--config configs/best/SYM.json` on `forecast`, `eval` and `backtest`: the shipped best sampler
 * config's model and setting take effect (read back from each command's output), flags override
 * it, and the ensemble that the commands cannot run is named in a note, not dropped silently.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runBacktestCli } from '../../src/cli/backtest';
import { readBestConfig } from '../../src/forecast/bestConfig';
import { REPO_ROOT, realData } from '../support/paths';
import { runCli } from '../support/cli';

const run = runCli;

afterEach(() => vi.restoreAllMocks());

const BEST = join(REPO_ROOT, 'configs', 'best', 'SYNA.json');
const best = readBestConfig(BEST);
const ETH = realData('crypto-5m', 'ETH_BTC-5m.feather');
const tmp = () => mkdtempSync(join(tmpdir(), 'qb-best-'));
const ENSEMBLE_NOTE = /its ensemble of 5 settings .* is not used/;

describe('a best sampler config as --config', () => {
  it('the shipped file is what these tests assume', () => {
    expect(best.model).toBe('models/qb-ar-s.json');
    expect(best.setting).toEqual({ samples: 64, aggregation: 'median', lookback: 128, temperature: 1, topP: 1 });
    expect(best.ensemble.members).toHaveLength(5);
  });

  it('forecast: its model, paths, lookback, temperature and top-p; flags override; the aggregate and ensemble are named as not used', async () => {
    const out = tmp();
    const r = await run(['forecast', '--config', BEST, '--data', ETH, '--symbol', 'ETH_BTC', '--session', '24x7', '--horizon', '6', '--device', 'cpu', '--no-png', '--json', '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.model.name).toBe('qb-ar-s');
    expect(s).toMatchObject({ samples: best.setting.samples, temperature: 1, topP: 1, horizon: 6 });
    expect(s.lookback.requested).toBe(128);
    expect(s.notes.join('\n')).toMatch(ENSEMBLE_NOTE);
    expect(s.notes.join('\n')).toMatch(/aggregate median not used/);
    expect(s.notes.join('\n')).toMatch(/chosen for horizon 30, this run forecasts 6/);
    // A flag wins over the file.
    const o = await run(['forecast', '--config', BEST, '--data', ETH, '--symbol', 'ETH_BTC', '--session', '24x7', '--horizon', '6', '--samples', '16', '--top-p', '0.8', '--lookback', '96', '--device', 'cpu', '--no-png', '--json', '--out', out]);
    expect(o.code).toBe(0);
    const so = JSON.parse(o.out);
    expect(so).toMatchObject({ samples: 16, temperature: 1, topP: 0.8 });
    expect(so.lookback.requested).toBe(96);
  });

  it('forecast: a YAML forecast config still reads as one', async () => {
    const out = tmp();
    const cfg = join(out, 'outlook.yaml');
    writeFileSync(cfg, `data: ${ETH}\nsymbol: ETH_BTC\nsession: 24x7\nmodel: historical\nsamples: 40\nhorizon: 6\npng: false\n`);
    const r = await run(['forecast', '--config', cfg, '--json', '--out', out]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s).toMatchObject({ samples: 40, horizon: 6 });
    expect(s.model.name).toBe('historical');
    expect(s.notes.join('\n')).not.toMatch(/ensemble/);
  });

  it('eval: its model, samples, aggregate, lookback and sampler, with a note on the ensemble', async () => {
    const r = await run(['eval', '--config', BEST, '--data', ETH, '--horizon', '6', '--every', '2500', '--device', 'cpu', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.model).toMatch(/models\/qb-ar-s\.json$/);
    expect(j.sampler).toEqual({ samples: best.setting.samples, aggregate: 'median', lookback: 128, temperature: 1, topP: 1, topK: null });
    expect(j.notes.join('\n')).toMatch(ENSEMBLE_NOTE);
    expect(r.err).toMatch(ENSEMBLE_NOTE);
    expect(j.n).toBeGreaterThan(0);
    expect(j.pctReturnMae).toBeGreaterThan(0);
    // eval has no config of its own: anything else is an error naming the file.
    const other = join(tmp(), 'x.yaml');
    writeFileSync(other, 'samples: 10\n');
    const bad = await run(['eval', '--config', other, '--data', ETH, '--horizon', '6']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/eval --config takes a best sampler config.*x\.yaml/);
  });

  it('backtest: the same run as the setting given as flags; flags override; the record says what ran', async () => {
    const common = { data: ETH, class: 'crypto', start: '2018-01-20T00:00Z', end: '2018-01-20T00:30Z', mc: 0, device: 'cpu' };
    const notes: string[] = [];
    const fromFile = await runBacktestCli({ ...common, config: BEST, samples: '32', out: tmp() }, (l) => notes.push(l));
    const fromFlags = await runBacktestCli({ ...common, forecaster: 'model', model: join(REPO_ROOT, 'models', 'qb-ar-s.json'), samples: '32', lookback: '128', temperature: '1', topP: '1', aggregate: 'median', out: tmp() });
    const a = fromFile.runs[0];
    const b = fromFlags.runs[0];
    expect(a.forecaster).toBe('qb-ar-s');
    expect(a.record.sampler).toEqual({ samples: 32, lookback: 128, temperature: 1, topP: 1, topK: null, aggregate: 'median', bestConfig: BEST });
    expect(a.record.notes).toEqual(fromFile.notes);
    expect(notes.join('\n')).toMatch(ENSEMBLE_NOTE);
    expect(a.result.trades.length).toBeGreaterThan(0);
    expect(Array.from(a.result.equity)).toEqual(Array.from(b.result.equity));
    // Without the flag, the file's paths.
    const full = await runBacktestCli({ ...common, config: BEST, out: tmp() });
    expect(full.runs[0].record.sampler).toMatchObject({ samples: best.setting.samples, lookback: 128, aggregate: 'median' });
  }, 120_000);

  it('backtest: a bad aggregate fails before forecasting', async () => {
    await expect(runBacktestCli({ data: ETH, class: 'crypto', samples: '8', aggregate: 'mode', out: tmp() })).rejects.toThrow(/aggregate/);
  });
});
