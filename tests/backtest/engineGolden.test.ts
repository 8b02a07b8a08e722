/**
 * The engine's results pinned bit for bit: every golden run (see `golden.ts`) must give the same
 * equity, cash, exposure, positions, decisions, trades, fills, costs, limits, kill events and
 * fallbacks as the engine did when `fixtures/engine-golden.json` was recorded (before the speed
 * work of issue 20). A change that moves any number by one bit fails here, naming the run and field.
 *
 * Re-record (only for an intended change of results, saying why in the commit):
 * `UPDATE_ENGINE_GOLDEN=1 npx vitest run tests/backtest/engineGolden.test.ts`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/backtest/engine';
import type { BacktestResult } from '../../src/backtest/result';
import { writeFileAtomic } from '../../src/core/output';
import { fingerprint, goldenRuns } from './golden';

const FIXTURE = resolve(__dirname, 'fixtures', 'engine-golden.json');
const { market, runs } = goldenRuns();
const results = new Map<string, BacktestResult>(runs.map((r) => [r.name, runBacktest(market, r.signals, r.config, r.options)]));
const actual = Object.fromEntries([...results].map(([name, r]) => [name, fingerprint(r)]));
if (process.env.UPDATE_ENGINE_GOLDEN === '1') writeFileAtomic(FIXTURE, `${JSON.stringify(actual, null, 1)}\n`);
const expected = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, Record<string, string | number>>;

describe('engine golden runs', () => {
  it('has the same runs as the fixture', () => {
    expect(Object.keys(actual)).toEqual(Object.keys(expected));
  });
  for (const r of runs) {
    it(`${r.name}: every field bit-identical`, () => {
      expect(actual[r.name]).toEqual(expected[r.name]);
    });
  }

  // The runs reach what they claim to: otherwise a pin on them would pin nothing.
  it('reaches every fill reason, kill switch, cost and fallback', () => {
    const all = [...results.values()];
    const reasons = new Set(all.flatMap((r) => r.trades.map((t) => t.exitReason)));
    expect([...reasons].sort()).toEqual(['end', 'finalClose', 'horizon', 'killSwitch', 'signal', 'stop', 'takeProfit']);
    const switches = new Set(all.flatMap((r) => r.killEvents.map((e) => `${e.switch}:${e.action.kind}`)));
    for (const k of ['maxDrawdown:pause', 'dailyLoss:pauseRestOfDay', 'consecutiveLosses:pause', 'fundingSpike:pause', 'maxDrawdown:stop']) expect(switches).toContain(k);
    expect(all.some((r) => r.killEvents.some((e) => e.resumeTime !== null))).toBe(true);
    expect(all.every((r) => r.fills > 0 && r.costs.fees > 0 && r.costs.slippage > 0)).toBe(true);
    expect(all.some((r) => r.costs.interest > 0) && all.some((r) => r.costs.interest < 0)).toBe(true);
    expect(all.some((r) => r.costs.funding !== 0)).toBe(true);
    expect(all.some((r) => r.fallbacks.cancelledOrders > 0)).toBe(true);
    expect(all.some((r) => r.fallbacks.cashCutAtFill > 0)).toBe(true);
    expect(all.some((r) => r.fallbacks.noForecast.some((x) => x > 0))).toBe(true);
    expect(all.every((r) => r.fallbacks.missingQuotes.some((x) => x > 0))).toBe(true);
    for (const limit of ['perSymbolCap', 'grossIntraday', 'grossAtClose', 'longOnly', 'minTrade', 'cash'] as const) {
      expect(all.some((r) => r.limits.counts[limit] > 0), limit).toBe(true);
    }
  });
});
