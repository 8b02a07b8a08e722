import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startService } from '../../src/cli/serve';
import { withChromium } from '../../src/plot/browser';
import { chromiumPath } from '../../src/plot/chromium';
import { REPO_ROOT, realData } from '../support/paths';

const BTC = realData('crypto-1m', 'UNITTEST_BTC-1m.feather');
// Bars 8271..12105 of this recording have no gap: the replay starts inside that stretch.
const REPLAY = { source: 'replay', replay: BTC, symbol: 'BTC', session: '24x7', model: 'historical', samples: '40', horizon: '20', lookback: '120', prime: '8400' };
const noChromium = existsSync(chromiumPath()) ? undefined : `Chromium not found at ${chromiumPath()} (Debian package chromium)`;

describe.skipIf(noChromium)(`the live page in headless Chromium${noChromium ? ` (skipped: ${noChromium})` : ''}`, () => {
  it('draws candles, the fan, the band and P(up), and redraws as two replayed bars arrive, with no console error', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-serve-page-'));
    const errors: string[] = [];
    let svc: Awaited<ReturnType<typeof startService>> | undefined;
    try {
      await withChromium({ viewport: { width: 1100, height: 900 } }, async (browser) => {
        // Started once the browser is up (its start takes seconds on a busy machine); stopped by the test, long before its last bar.
        svc = await startService({ ...REPLAY, speed: '40', maxBars: '200', out, port: '0' }); // a bar every 1.5 s
        const page = await browser.newPage();
        page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
        page.on('pageerror', (e) => void errors.push(e.message));
        await page.goto(`${svc!.url}/`);
        await page.waitForFunction(() => (window as unknown as { __qb: { updates: number } }).__qb.updates >= 1, null, { timeout: 20_000 });
        const before = await page.evaluate(() => (window as unknown as { __qb: { updates: number; asOf: string } }).__qb);
        await page.waitForFunction((n) => (window as unknown as { __qb: { updates: number } }).__qb.updates >= n + 2, before.updates, { timeout: 20_000 });
        const after = await page.evaluate(() => {
          type Trace = { type: string; name?: string; fill?: string; x: unknown[] };
          const chart = document.getElementById('chart') as unknown as { data: Trace[]; dataset: { asOf: string } };
          const pup = document.getElementById('pup') as unknown as { data: Trace[] };
          return {
            asOf: chart.dataset.asOf,
            types: chart.data.map((t) => t.type),
            names: chart.data.map((t) => t.name),
            fills: chart.data.map((t) => t.fill ?? ''),
            candles: chart.data[0].x.length,
            pupPoints: pup.data[0].x.length,
            svg: document.querySelectorAll('#chart .main-svg').length,
            info: document.getElementById('info')!.textContent,
          };
        });
        expect(Date.parse(after.asOf) - Date.parse(before.asOf)).toBeGreaterThanOrEqual(2 * 60_000);
        expect(after.types[0]).toBe('candlestick');
        expect(after.candles).toBe(120);
        expect(after.names).toEqual(expect.arrayContaining(['VWAP', 'paths', 'p10', 'p10-p90 band', 'median']));
        expect(after.names.filter((n) => n === 'paths')).toHaveLength(40);
        expect(after.fills).toContain('tonexty');
        expect(after.pupPoints).toBeGreaterThanOrEqual(3);
        expect(after.svg).toBeGreaterThan(0);
        expect(after.info).toMatch(/^BTC as of .*: P\(up\) \d+\.\d% ± /);
      });
    } finally {
      await svc?.stop();
    }
    expect(errors).toEqual([]);
    expect(svc!.session!.loop.stats.skipped.deadline).toBe(0);
  }, 90_000);
});

describe('quantbook serve and SIGTERM', () => {
  it('ends open streams, finishes, and exits 0', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-serve-term-'));
    const args = Object.entries({ ...REPLAY, speed: '60', out, port: '0' }).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v]);
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'quantbook.js'), 'serve', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      for (let i = 0; i < 300 && !/quantbook serve: http:\/\/127\.0\.0\.1:(\d+)\//.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
      const port = Number(/quantbook serve: http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr)?.[1]);
      expect(port).toBeGreaterThan(0);
      const streamEnded = new Promise<string>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/events' }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d) => {
            text += d;
            if (text.includes('event: history')) child.kill('SIGTERM');
          });
          res.on('close', () => resolve(text));
        }).on('error', reject).end();
      });
      expect(await streamEnded).toContain('event: history');
      expect(await exited).toBe(0);
      expect(stderr).toContain('SIGTERM: shutting down');
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
