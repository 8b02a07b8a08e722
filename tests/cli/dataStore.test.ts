import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { barsToArraysBySymbol, loadBars } from '../../src/data';
import { alpacaFake, asServed, binanceFake, RECORDED, type FakeServer } from '../data/fetch/fakeServers';
import { runCli } from '../support/cli';

const run = runCli;

const servers: FakeServer[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const tmp = (): string => mkdtempSync(join(tmpdir(), 'qb-cli-store-'));

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? allFiles(join(dir, n)) : [join(dir, n)]));
}

describe('quantbook data fetch / data store', () => {
  it('data --help lists fetch and store; fetch --help says where credentials come from', async () => {
    const h = await run(['data', '--help']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/^\s+fetch \[options\]/m);
    expect(h.out).toMatch(/^\s+store/m);
    const f = await run(['data', 'fetch', '--help']);
    expect(f.out).toContain('--base-url <url>');
    expect(f.out).toContain('APCA_API_KEY_ID and APCA_API_SECRET_KEY from the environment');
    const s = await run(['data', 'store', '--help']);
    expect(s.out).toMatch(/list \[options\] <store>/);
    expect(s.out).toMatch(/inspect \[options\] <store>/);
  });

  it('the README flow: fetch two symbols into a store, list and inspect it, then forecast and backtest on it', async () => {
    const eth = RECORDED.ethBtc5m();
    const ltc = RECORDED.ltcBtc5m();
    const server = await binanceFake({ klines: { ETHBTC: eth, LTCBTC: ltc } });
    servers.push(server);
    const dir = tmp();
    const store = join(dir, 'store');
    const fetchArgs = ['data', 'fetch', '--source', 'binance', '--symbols', 'ETHBTC', 'LTCBTC', '--interval', '5m', '--start', '2018-01-11', '--end', '2018-01-18', '--to', store, '--base-url', server.url];
    const f = await run(fetchArgs);
    expect(f.err).toBe('');
    expect(f.code).toBe(0);
    const from = Date.parse('2018-01-11T00:00:00Z');
    const to = Date.parse('2018-01-18T00:00:00Z');
    const nEth = asServed(eth, from, to).ts.length;
    const nLtc = asServed(ltc, from, to).ts.length;
    expect(f.out).toContain(`binance ETHBTC 5m: 3 pages, ${nEth} new rows, ${nEth} stored, 2018-01-11 00:00 .. 2018-01-17 23:55 UTC`);
    expect(f.out).toContain(`binance LTCBTC 5m: 3 pages, ${nLtc} new rows`);
    expect(f.out).toContain(`binance -> ${store}: 6 requests, 0 retries`);
    const bars = barsToArraysBySymbol(loadBars(store));
    expect([...bars.keys()]).toEqual(['ETHBTC', 'LTCBTC']);
    expect(Array.from(bars.get('LTCBTC')!.ts)).toEqual(asServed(ltc, from, to).ts);

    const again = await run(fetchArgs);
    expect(again.out).toContain('binance ETHBTC 5m: up to date, nothing asked');
    expect(server.requests.length).toBe(6);

    const list = await run(['data', 'store', 'list', store]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(new RegExp(`bars\\s+binance\\s+ETHBTC\\s+5m\\s+${nEth}\\s+2018-01-11 00:00 \\.\\. 2018-01-17 23:55`));
    const inspect = await run(['data', 'store', 'inspect', store, '--symbol', 'LTCBTC']);
    expect(inspect.out).toContain('bars/binance/LTCBTC/5m');
    expect(inspect.out).toContain('fetched    2018-01-11T00:00:00.000Z .. 2018-01-18T00:00:00.000Z');
    expect(inspect.out).toContain('pending    none');
    expect(inspect.out).toContain('months     2018-01');

    const fc = await run(['forecast', '--data', store, '--symbol', 'ETHBTC', '--session', '24x7', '--model', 'historical', '--horizon', '12', '--samples', '50', '--no-png', '--out', join(dir, 'fc'), '--json']);
    expect(fc.err).toBe('');
    expect(fc.code).toBe(0);
    const summary = JSON.parse(fc.out);
    expect(summary.symbol).toBe('ETHBTC');
    expect(JSON.stringify(summary)).toContain('2018-01-17T23:55');

    const bt = await run(['backtest', '--data', store, '--class', 'crypto', '--forecaster', 'historical', '--mc', '0', '--out', join(dir, 'bt'), '--json']);
    expect(bt.code).toBe(0);
    const rec = JSON.parse(bt.out);
    expect(rec.symbols).toEqual(['ETHBTC', 'LTCBTC']);
    expect(rec.data.bars).toBe(new Set([...asServed(eth, from, to).ts, ...asServed(ltc, from, to).ts]).size);
  });

  it('a perpetual with its funding from the store: fetch --funding, then backtest --funding STORE/funding/<source>/<symbol>', async () => {
    const funding = RECORDED.funding8h();
    const server = await binanceFake({ klines: { XRPUSDT: RECORDED.perp5m() }, funding: { XRPUSDT: funding } });
    servers.push(server);
    const dir = tmp();
    const store = join(dir, 'store');
    const f = await run(['data', 'fetch', '--source', 'binance-futures', '--symbols', 'XRPUSDT', '--interval', '5m', '--start', '2021-11-15', '--end', '2021-11-22', '--funding', '--to', store, '--base-url', server.url]);
    expect(f.code).toBe(0);
    expect(f.out).toMatch(/binance-futures XRPUSDT funding: 1 pages, 12 new rows/);
    const bt = await run(['backtest', '--data', join(store, 'bars', 'binance-futures'), '--class', 'perp', '--funding', join(store, 'funding', 'binance-futures', 'XRPUSDT'), '--forecaster', 'historical', '--mc', '0', '--out', join(dir, 'bt'), '--json']);
    const rec = JSON.parse(bt.out);
    expect(rec.symbols).toEqual(['XRPUSDT']);
    expect(rec.fallbacks.perpsWithoutFunding).toEqual([]);
  });

  it('never prints or writes the Alpaca credentials: not in progress, report, errors or store files', async () => {
    const keys = { keyId: 'AKCLITESTKEY987654321', secret: 'cliSecretValue/0123456789abcdefghijklmnop' };
    const saved = { id: process.env.APCA_API_KEY_ID, secret: process.env.APCA_API_SECRET_KEY };
    process.env.APCA_API_KEY_ID = keys.keyId;
    process.env.APCA_API_SECRET_KEY = keys.secret;
    try {
      const good = await alpacaFake({ bars: { SHA: RECORDED.stock5m() }, keys });
      const bad = await alpacaFake({ bars: { SHA: RECORDED.stock5m() }, keys: { keyId: 'x', secret: 'y' } });
      servers.push(good, bad);
      const store = join(tmp(), 'store');
      const args = ['data', 'fetch', '--source', 'alpaca', '--symbols', 'SHA', '--interval', '5m', '--start', '2024-06-18', '--end', '2024-06-22', '--to', store];
      const ok = await run([...args, '--base-url', good.url]);
      const okJson = await run([...args, '--base-url', good.url, '--json', '--end', '2024-06-25']);
      const denied = await run([...args, '--base-url', bad.url, '--end', '2024-07-01', '--retries', '0']);
      const debug = await run([...args, '--base-url', bad.url, '--end', '2024-07-01', '--retries', '0', '--debug']);
      expect(ok.code).toBe(0);
      expect(ok.out).toContain('alpaca SHA 5m:');
      expect(JSON.parse(okJson.out).series[0].added).toBeGreaterThan(0);
      expect(denied.code).toBe(1);
      expect(denied.err).toContain('quantbook: DataError: alpaca: HTTP 403: {"message":"forbidden: key [redacted] / [redacted]"}');
      expect(debug.err).toContain('[redacted]');
      const everything = [ok, okJson, denied, debug].map((r) => r.out + r.err).join('\n') + allFiles(store).map((f) => readFileSync(f).toString('latin1')).join('\n');
      expect(everything.includes(keys.keyId)).toBe(false);
      expect(everything.includes(keys.secret)).toBe(false);
      expect(good.requests.every((r) => r.headers['apca-api-secret-key'] === keys.secret)).toBe(true);
    } finally {
      if (saved.id === undefined) delete process.env.APCA_API_KEY_ID;
      else process.env.APCA_API_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.APCA_API_SECRET_KEY;
      else process.env.APCA_API_SECRET_KEY = saved.secret;
    }
  });
});
