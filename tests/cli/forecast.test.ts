import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXIT_WARMING_UP } from '../../src/cli/forecast';
import { flagsToConfig, readForecastConfig, resolveForecastSettings } from '../../src/cli/forecastConfig';
import { ConfigError } from '../../src/core/errors';
import { chromiumPath } from '../../src/plot/chromium';
import { realData } from '../support/paths';
import { runCli } from '../support/cli';
import { PROTOTYPE_SYMBOLS, walkRows, writeCsv } from '../support/csv';

const run = runCli;

afterEach(() => vi.restoreAllMocks());

const tmp = () => mkdtempSync(join(tmpdir(), 'qb-forecast-'));
const BTC = realData('crypto-1m', 'UNITTEST_BTC-1m.feather');
const ASHARE = realData('a-share-5m.csv');
const ASHARE_FLAGS = ['--time-zone', 'Asia/Shanghai', '--stamped-at', 'end', '--bar', '5m', '--session', 'cn-a'];

describe('forecast config', () => {
  it('YAML keys in snake_case, flags override, sessions map to calendars, levels and quiet windows resolve', () => {
    const dir = tmp();
    const file = join(dir, 'outlook.yaml');
    writeFileSync(file, [
      'data: bars.feather', 'symbol: BTC', 'out: out', 'top_p: 0.8', 'temperature: 0.7', 'session: extended', 'percentiles: [5, 50, 95]',
      'levels: [101.5, {name: R1, price: 103}]',
      'quiet_windows:', '  - {label: CPI, at: "2024-06-12T12:30:00Z"}', '  - {label: FOMC, start: "2024-06-12T18:00:00Z", end: "2024-06-12T19:00:00Z"}',
    ].join('\n'));
    const s = resolveForecastSettings(readForecastConfig(file), flagsToConfig({ topP: '0.95', level: ['S1=99'] }));
    expect(s.sampling).toEqual({ temperature: 0.7, topP: 0.95, topK: undefined });
    expect([s.sessionFlag, s.session]).toEqual(['extended', 'us-ext']);
    expect(s.percentiles).toEqual([0.05, 0.5, 0.95]);
    expect(s.levels).toEqual([{ name: 'S1', price: 99 }]); // flags replace the config's list
    expect(s.quietWindows).toEqual([
      { label: 'CPI', startMs: Date.parse('2024-06-12T12:15:00Z'), endMs: Date.parse('2024-06-12T13:00:00Z') },
      { label: 'FOMC', startMs: Date.parse('2024-06-12T18:00:00Z'), endMs: Date.parse('2024-06-12T19:00:00Z') },
    ]);
    expect(resolveForecastSettings(readForecastConfig(file), {}).levels).toEqual([{ name: 'level 101.5', price: 101.5 }, { name: 'R1', price: 103 }]);
    expect(resolveForecastSettings({ data: 'x', symbol: 'X', out: 'o' }, flagsToConfig({ column: ['ts=timestamps'], timeZone: 'Asia/Shanghai', stampedAt: 'end', bar: '5m' })).load).toEqual({
      timeZone: 'Asia/Shanghai', timestamp: undefined, stampedAt: 'end', barMs: 300_000, columns: { ts: 'timestamps' },
    });
    const d = resolveForecastSettings({ data: 'x', symbol: 'X', out: 'o' }, {});
    // no session given: rth until the run picks one from the data (or --class), see 'picks the session from the data'
    expect([d.horizon, d.samples, d.lookback, d.session, d.sessionGiven, d.seed, d.png, d.model.endsWith('qb-ar-s.json')]).toEqual([30, 100, 480, 'us-rth', false, 0, true, true]);
  });

  it('unknown keys, bad values and naive times are errors naming the file and key', () => {
    const dir = tmp();
    const bad = (text: string) => {
      const file = join(dir, `c${Math.random()}.yaml`);
      writeFileSync(file, text);
      return () => readForecastConfig(file);
    };
    expect(bad('symbol: X\ntopp: 0.9\n')).toThrow(ConfigError);
    expect(bad('symbol: X\ntopp: 0.9\n')).toThrow(/unknown key topp .*key "topp"/);
    expect(bad('top_p: 1.5\n')).toThrow(/key "top_p"/);
    expect(bad('quiet_windows: [{label: CPI, at: "2024-06-12 12:30"}]\n')).toThrow(/with its zone/);
    expect(bad('session: asia\n')).toThrow(/key "session"/);
    expect(bad('- a\n- b\n')).toThrow(/mapping/);
    expect(() => flagsToConfig({ horizon: '0' })).toThrow(/key "--horizon"/);
    expect(() => flagsToConfig({ level: ['R=abc'] })).toThrow(/NAME=PRICE/);
    expect(() => resolveForecastSettings({ symbol: 'X', out: 'o' }, {})).toThrow(/--data is required/);
  });
});

describe('quantbook forecast', () => {
  it('historical baseline on real 1-minute BTC: summary, paths CSV with highs and lows, fan chart', async () => {
    const out = tmp();
    const r = await run(['forecast', '--data', BTC, '--symbol', 'BTC', '--session', '24x7', '--model', 'historical', '--samples', '50', '--seed', '3', '--no-png', '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^BTC {2}1m outlook {2}as of 2017-11-14T23:00:00.000Z \(session 24x7\)/);
    expect(r.out).toMatch(/P\(up\) \d\.\d{3} \+- \d\.\d{3} \(MC s\.e\.\)/);
    expect(r.out).toMatch(/P\(hit VWAP\) .*\n.*P\(retrace to mid-band\)/);
    expect(r.out).toMatch(/latency \(ms\): load \d+, prepare \d+, openModel \d+, sample \d+, summarise \d+, write \d+; total \d+ \(cpu \d+\)/);
    const files = readdirSync(out).sort();
    expect(files).toEqual(['fan_BTC_20171114T230000Z.html', 'paths_BTC_20171114T230000Z.csv', 'pred_summary_BTC_20171114T230000Z.json']);
    const s = JSON.parse(readFileSync(join(out, files[2]), 'utf8'));
    expect(s).toMatchObject({ schema: 'quantbook.pred-summary/1', symbol: 'BTC', samples: 50, horizon: 30, seed: 3, temperature: null, extremesFrom: 'highLow', quiet: false, session: '24x7' });
    expect(s.model).toMatchObject({ ref: 'historical', family: 'baseline', device: 'none', pathSource: 'bootstrap' });
    expect(s.stepTimes).toHaveLength(30);
    expect(s.bands.values.map((v: number[]) => v.length)).toEqual([30, 30, 30]);
    for (const k of ['pUp', 'pUpStdError', 'expReturn', 'pHitVwap', 'pRetraceMidband', 'vwap', 'midband']) expect(typeof s[k]).toBe('number');
    expect(s.drawdown.levels).toEqual([0.5, 0.75, 0.9, 0.95, 0.99]);
    expect(s.data).toMatchObject({ bars: 13681, first: '2017-11-04T23:02:00.000Z', last: '2017-11-14T22:59:00.000Z', featureSessions: 3 });
    for (const k of ['loadMs', 'prepareMs', 'openModelMs', 'sampleMs', 'summariseMs', 'writeMs', 'totalMs', 'cpuMs']) expect(s.timings[k]).toBeGreaterThanOrEqual(0);
    const csv = readFileSync(join(out, files[1]), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(51);
    expect(csv[0].split(',')).toHaveLength(1 + 3 * 30);
    expect(csv[0]).toMatch(/^path,close_1,.*,close_30,high_1,.*,low_30$/);
    expect(readFileSync(join(out, files[0]), 'utf8')).toMatch(/Plotly\.newPlot/);
  });

  it('A-shares with the lunch break: steps resume at 13:00 Shanghai; --json prints the summary', async () => {
    const out = tmp();
    const r = await run(['forecast', '--data', ASHARE, '--symbol', '600000', ...ASHARE_FLAGS, '--model', 'historical', '--samples', '20', '--no-png', '--json', '--out', out]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.asOf).toBe('2024-08-29T03:30:00.000Z');
    expect(s.stepTimes.slice(0, 2)).toEqual(['2024-08-29T05:00:00.000Z', '2024-08-29T05:05:00.000Z']);
    expect(s.stepTimes[24]).toBe('2024-08-30T01:30:00.000Z');
    expect(s.barInterval).toBe('5m');
  });

  it('warm-up: too few bars is exit 1 with one line; with --wait it says how many are missing and exits 75', async () => {
    const dir = tmp();
    const few = join(dir, 'few.csv');
    writeFileSync(few, readFileSync(ASHARE, 'utf8').split('\n').slice(0, 41).join('\n') + '\n'); // 40 bars
    const args = ['forecast', '--data', few, '--symbol', 'X', ...ASHARE_FLAGS, '--model', 'historical', '--lookback', '100', '--no-png', '--out', join(dir, 'out')];
    const fail = await run(args);
    expect(fail.code).toBe(1);
    expect(fail.err).toMatch(/^quantbook: DataError: warm-up: the forecast needs 100 bars of context, the data has 40 in the cn-a session: 60 bars missing/);
    const wait = await run([...args, '--wait']);
    expect(wait.code).toBe(EXIT_WARMING_UP);
    expect(wait.err).toMatch(/^quantbook: warm-up: 60 more bars needed \(40 of 100 in the cn-a session\); enough at about 2024-06-2\dT\d\d:\d\d:00.000Z/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('bad input is one line: unknown symbol in multi-symbol data, unknown config key', async () => {
    const dir = tmp();
    const r = await run(['forecast', '--data', realData('crypto-5m'), '--symbol', 'DOGE', '--session', '24x7', '--model', 'historical', '--out', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^quantbook: ConfigError: symbol DOGE is not in the data \(symbols: .*ETH_BTC/);
    writeFileSync(join(dir, 'c.yaml'), 'horizon: 30\nhorizn: 20\n');
    const c = await run(['forecast', '--config', join(dir, 'c.yaml')]);
    expect(c.err).toMatch(/unknown key horizn/);
  });

  it('picks the session from the data (24x7 crypto), else from --class, else US hours, and says which and why', async () => {
    const out = tmp();
    const xrp = realData('crypto-1m', 'XRP_ETH-1m.feather');
    const r = await run(['forecast', '--data', xrp, '--symbol', 'XRP_ETH', '--model', 'historical', '--samples', '20', '--no-png', '--json', '--out', out]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.session).toBe('24x7');
    expect(s.sessionChoice).toEqual({ source: 'data', reason: expect.stringMatching(/^the data trades around the clock: \d+ bars on Saturdays and Sundays, bars in 24 of 24 UTC hours/) });
    expect(s.notes.join(' ')).not.toMatch(/outside the/);
    const text = await run(['forecast', '--data', BTC, '--symbol', 'BTC', '--model', 'historical', '--samples', '20', '--no-png', '--out', out]);
    expect(text.out.split('\n')[1]).toMatch(/^session 24x7: the data trades around the clock: 4110 bars on Saturdays and Sundays/);
    // Weekdays only, 09:30-16:00 New York: not 24x7 by the data, so --class decides, else the default.
    const dir = tmp();
    const rows = walkRows(2000, 9, Date.parse('2024-03-04T14:30:00Z')).filter((row) => {
      const t = new Date(row[0]);
      const min = t.getUTCHours() * 60 + t.getUTCMinutes();
      return t.getUTCDay() >= 1 && t.getUTCDay() <= 5 && min >= 13 * 60 + 30 && min < 20 * 60;
    });
    const weekday = writeCsv(join(dir, 'W-1m.csv'), rows);
    const args = ['forecast', '--data', weekday, '--symbol', 'W', '--model', 'historical', '--samples', '20', '--lookback', '60', '--no-png', '--json', '--out', out];
    const byClass = JSON.parse((await run([...args, '--class', 'crypto'])).out);
    expect([byClass.session, byClass.sessionChoice.source]).toEqual(['24x7', 'class']);
    expect(byClass.sessionChoice.reason).toMatch(/^--class crypto: 24x7; the data shows no 24x7 market \(no bars on both weekend days, bars in \d+ of 24 UTC hours\)/);
    const byDefault = JSON.parse((await run(args)).out);
    expect([byDefault.session, byDefault.sessionChoice.source]).toEqual(['rth (us-rth)', 'default']);
    const given = JSON.parse((await run([...args, '--session', 'extended'])).out);
    expect(given.sessionChoice).toEqual({ source: 'given', reason: 'given (--session extended or the config\'s session)' });
  });

  it('symbols named constructor and __proto__ forecast like any other', async () => {
    const dir = tmp();
    PROTOTYPE_SYMBOLS.forEach((s, k) => writeCsv(join(dir, `${s}-1m.csv`), walkRows(200, 30 + k)));
    for (const sym of PROTOTYPE_SYMBOLS) {
      const r = await run(['forecast', '--data', dir, '--symbol', sym, '--session', '24x7', '--model', 'historical', '--samples', '10', '--lookback', '60', '--no-png', '--json', '--out', join(dir, 'out')]);
      expect(r.err).toBe('');
      expect(JSON.parse(r.out)).toMatchObject({ symbol: sym, data: { bars: 200 } });
    }
  });

  it.skipIf(!existsSync(chromiumPath()))('writes a PNG of the fan chart when Chromium is available', async () => {
    const out = tmp();
    const r = await run(['forecast', '--data', BTC, '--symbol', 'BTC', '--session', '24x7', '--model', 'historical', '--samples', '20', '--out', out]);
    expect(r.code).toBe(0);
    const png = readFileSync(join(out, 'fan_BTC_20171114T230000Z.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBeGreaterThan(800); // width from the IHDR chunk
    expect(JSON.parse(readFileSync(join(out, 'pred_summary_BTC_20171114T230000Z.json'), 'utf8')).files.png).toMatch(/\.png$/);
  }, 60_000);
});
