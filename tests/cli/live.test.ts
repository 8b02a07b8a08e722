import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadSymbol, outlookFromArrays } from '../../src/cli/forecast';
import { resolveLiveSettings, splitFlags } from '../../src/cli/live';
import { main } from '../../src/cli/main';
import { ConfigError } from '../../src/core/errors';
import { openModel } from '../../src/forecast';
import { realData } from '../support/paths';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  process.exitCode = undefined;
  const code = await main(['node', 'quantbook', ...args]);
  process.exitCode = undefined;
  vi.restoreAllMocks();
  return { code, out, err };
}

afterEach(() => vi.restoreAllMocks());

const BTC = realData('crypto-1m', 'UNITTEST_BTC-1m.feather');

describe('quantbook live --source replay', () => {
  it('forecasts each replayed bar with the forecast pipeline: the live summary equals the pipeline on all bars up to it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-live-'));
    const args = ['--symbol', 'BTC', '--session', '24x7', '--model', 'historical', '--samples', '40', '--horizon', '15', '--lookback', '120', '--seed', '5'];
    const r = await run(['live', '--source', 'replay', '--replay', BTC, ...args, '--speed', 'max', '--max-bars', '12', '--out', out]);
    expect(r.code).toBe(0);
    const files = readdirSync(out).filter((f) => f.startsWith('pred_summary_BTC_2'));
    expect(r.out).toContain(`bars 12, forecasts ${files.length} (0 quiet)`);
    // This stretch of the recording misses bars: every bar after a gap is skipped, every other one forecast.
    const gaps = Number(/skipped: gap (\d+)\n/.exec(r.out)?.[1]);
    expect(files.length + gaps).toBe(12);
    expect(r.err.match(/ gap: \d+ session bars missing/g)).toHaveLength(gaps);
    const latest = JSON.parse(readFileSync(join(out, 'pred_summary_BTC_latest.json'), 'utf8'));
    expect(latest.schema).toBe('quantbook.pred-summary/1');
    expect(latest.files.summary).toBe(join(out, files.sort().at(-1)!));
    expect(latest.data.file).toBe(`replay:${BTC}`);
    // The same bars through the pipeline directly, without the live buffer's trim: same numbers.
    const { settings } = splitFlags({ data: BTC, symbol: 'BTC', session: '24x7', model: 'historical', samples: '40', horizon: '15', lookback: '120', seed: '5', out });
    const { arrays, barMs } = loadSymbol(settings);
    const end = arrays.ts.findIndex((t) => t + barMs === Date.parse(latest.asOf)) + 1;
    const cut = (x: Float64Array) => x.subarray(0, end);
    const model = await openModel('historical');
    const direct = await outlookFromArrays(settings, model, { ts: cut(arrays.ts), open: cut(arrays.open), high: cut(arrays.high), low: cut(arrays.low), close: cut(arrays.close), volume: cut(arrays.volume) }, barMs);
    await model.close();
    expect(latest.pUp).toBe(direct.outlook.stats.pUp);
    expect(latest.bands.values).toEqual(direct.outlook.stats.bands.values.map((v) => Array.from(v)));
    expect(latest.vwap).toBeCloseTo(direct.prepared.vwap, 9);
    expect(latest.midband).toBeCloseTo(direct.prepared.midband, 9);
  });

  it('bad live flags are ConfigErrors naming the flag; the deadline defaults to (bar - margin) / speed', () => {
    expect(() => resolveLiveSettings({ source: 'replay' }, 60_000)).toThrow(/--replay FILE/);
    expect(() => resolveLiveSettings({ source: 'replay', replay: 'x', speed: '0' }, 60_000)).toThrow(ConfigError);
    expect(() => resolveLiveSettings({ source: 'replay', replay: 'x', speed: '0' }, 60_000)).toThrow(/--speed/);
    expect(() => resolveLiveSettings({ source: 'kafka' }, 60_000)).toThrow(/--source/);
    expect(() => resolveLiveSettings({ source: 'binance', deadlineMargin: '2m' }, 60_000)).toThrow(/--deadline-margin must be shorter/);
    expect(resolveLiveSettings({ source: 'replay', replay: 'x', speed: '60' }, 60_000).deadlineMs).toBeCloseTo(55_000 / 60, 9);
    expect(resolveLiveSettings({ source: 'replay', replay: 'x', speed: 'max' }, 60_000).deadlineMs).toBe(Infinity);
    expect(resolveLiveSettings({ source: 'binance', deadline: '2s' }, 60_000).deadlineMs).toBe(2000);
  });
});
