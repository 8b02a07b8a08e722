import { describe, expect, it } from 'vitest';
import { DataError } from '../../../src/core/errors';
import type { BarArrays } from '../../../src/data/bars';
import { prepareOutlook, warmUpStatus } from '../../../src/forecast/paths/prepare';

const MIN = 60_000;

/** One-minute bars at the given open times; close 100 + 0.01 i, high/low +-0.05, volume 1 + i % 7. */
function bars(ts: number[]): BarArrays {
  const n = ts.length;
  const close = Float64Array.from({ length: n }, (_, i) => 100 + 0.01 * i);
  return {
    ts: Float64Array.from(ts),
    open: close.map((c) => c - 0.005),
    high: close.map((c) => c + 0.05),
    low: close.map((c) => c - 0.05),
    close,
    volume: Float64Array.from({ length: n }, (_, i) => 1 + (i % 7)),
  };
}

describe('prepareOutlook (24x7)', () => {
  // 4 UTC days of minute bars ending 2024-01-04T12:00, with bars 10 and 11 minutes before the end missing.
  const end = Date.parse('2024-01-04T12:00:00Z');
  const all = Array.from({ length: 3.5 * 1440 }, (_, i) => end - (3.5 * 1440 - i) * MIN).filter((t) => t !== end - 10 * MIN && t !== end - 11 * MIN);
  const a = bars(all);
  const p = prepareOutlook(a, { barMs: MIN, session: '24x7', lookback: 480, contextLength: 512 });

  it('gives the model the last L grid positions, missing bars as NaN (never filled with a price)', () => {
    expect(p.lookbackUsed).toBe(480);
    expect(p.context.close.length).toBe(480);
    expect(p.context.missing).toBe(2);
    expect(Number.isNaN(p.context.close[480 - 10])).toBe(true); // open time end - 10 min
    expect(Number.isNaN(p.context.high[480 - 11])).toBe(true);
    expect(p.context.close[479]).toBe(a.close[a.close.length - 1]);
    expect(p.context.ts[479] - p.context.ts[0]).toBe(479 * MIN);
  });

  it('caps the context at the model context length', () => {
    expect(prepareOutlook(a, { barMs: MIN, session: '24x7', lookback: 600, contextLength: 512 }).context.close.length).toBe(512);
  });

  it('current bar, as-of time, and features over the last 3 trading days', () => {
    const n = a.ts.length;
    expect(p.lastOpenMs).toBe(end - MIN);
    expect(p.asOfMs).toBe(end);
    expect(p.current.close).toBe(a.close[n - 1]);
    expect(p.features.sessions).toBe(3);
    expect(new Date(p.features.ts[0]).toISOString()).toBe('2024-01-02T00:00:00.000Z');
    // Session VWAP of today (UTC day): typical price weighted by volume since 00:00.
    let pv = 0;
    let v = 0;
    for (let i = 0; i < n; i++) {
      if (a.ts[i] < Date.parse('2024-01-04T00:00:00Z')) continue;
      pv += ((a.high[i] + a.low[i] + a.close[i]) / 3) * a.volume[i];
      v += a.volume[i];
    }
    expect(p.vwap).toBeCloseTo(pv / v, 10);
    let sum = 0;
    for (let i = n - 20; i < n; i++) sum += a.close[i];
    expect(p.midband).toBeCloseTo(sum / 20, 10);
    expect(p.counts).toEqual({ bars: n, outsideSession: 0, barsInSession: n });
  });
});

describe('prepareOutlook (US regular hours)', () => {
  // Monday 2024-06-17: pre-market 08:00-09:29 ET and regular hours 09:30-15:59 ET (EDT = UTC-4).
  const day = Date.parse('2024-06-17T12:00:00Z');
  const ts = Array.from({ length: 480 }, (_, i) => day + i * MIN); // 08:00 .. 15:59 ET
  const a = bars(ts);

  it('leaves bars outside the session out of VWAP and the model, and counts them', () => {
    const rth = prepareOutlook(a, { barMs: MIN, session: 'us-rth', lookback: 300, contextLength: 512 });
    const ext = prepareOutlook(a, { barMs: MIN, session: 'us-ext', lookback: 300, contextLength: 512 });
    expect(rth.counts.outsideSession).toBe(90);
    expect(ext.counts.outsideSession).toBe(0);
    expect(rth.vwap).toBeGreaterThan(ext.vwap); // prices rise all day: pre-market bars pull the extended VWAP down
    expect(new Date(rth.features.ts[0]).toISOString()).toBe('2024-06-17T13:30:00.000Z');
  });

  it('warm-up: too few bars is a DataError saying how many are missing; warmUpStatus counts them', () => {
    expect(() => prepareOutlook(a, { barMs: MIN, session: 'us-rth', lookback: 480, contextLength: 512 })).toThrow(DataError);
    expect(() => prepareOutlook(a, { barMs: MIN, session: 'us-rth', lookback: 480, contextLength: 512 })).toThrow(/needs 480 bars of context, the data has 390 .*: 90 bars missing/);
    expect(warmUpStatus(a, { barMs: MIN, session: 'us-rth', lookback: 480, contextLength: 512 })).toEqual({ required: 480, available: 390, missing: 90 });
    expect(warmUpStatus(a, { barMs: MIN, session: 'us-ext', lookback: 480, contextLength: 512 }).missing).toBe(0);
    expect(() => prepareOutlook(bars([Date.parse('2024-06-15T14:00:00Z')]), { barMs: MIN, session: 'us-rth', lookback: 2, contextLength: 512 })).toThrow(/no bar lies inside/); // Saturday
  });
});
