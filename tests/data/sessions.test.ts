import { describe, expect, it } from 'vitest';
import { compileSession, lastBarOfSession, sessionIndex, sessionTimestamps, windowRuns, type SessionLike, type SessionSpec } from '../../src/data/sessions';
import { randomBars, referenceSessionIndex, shuffledSome } from './per-bar-reference';
import { ConfigError } from '../../src/core/errors';

const at = (iso: string): number => Date.parse(iso);
const M = 60_000;

describe('US regular hours', () => {
  it('09:30-16:00 New York on both sides of both DST changes of 2024', () => {
    // 2024-03-10 spring forward (EST -> EDT); 2024-11-03 fall back (EDT -> EST)
    for (const [day, openUtc] of [
      ['2024-03-08', '14:30'],
      ['2024-03-11', '13:30'],
      ['2024-11-01', '13:30'],
      ['2024-11-04', '14:30'],
    ]) {
      const ts = sessionTimestamps('us-rth', at(`${day}T00:00:00Z`), at(`${day}T23:59:00Z`), M);
      expect(ts.length).toBe(390);
      expect(new Date(ts[0]).toISOString()).toBe(`${day}T${openUtc}:00.000Z`);
    }
  });

  it('labels bars by trading day; pre-market, weekends and holidays are outside', () => {
    const ts = Float64Array.from([at('2024-03-11T13:29:00Z'), at('2024-03-11T13:30:00Z'), at('2024-03-11T19:59:00Z'), at('2024-03-11T20:00:00Z'), at('2024-03-09T15:00:00Z'), at('2024-07-04T15:00:00Z')]);
    expect(Array.from(sessionIndex(ts, 'us-rth').sessionId)).toEqual([-1, 20240311, 20240311, -1, -1, -1]);
    expect(Array.from(sessionIndex(ts, 'us-ext').sessionId)).toEqual([20240311, 20240311, 20240311, 20240311, -1, -1]);
  });

  it('flags the last bar of each session', () => {
    const ts = Float64Array.from([...sessionTimestamps('us-rth', at('2024-03-08T00:00Z'), at('2024-03-12T00:00Z'), 30 * M)]);
    const last = lastBarOfSession(ts, 'us-rth');
    const flagged = Array.from(ts).filter((_, i) => last[i] === 1).map((t) => new Date(t).toISOString());
    expect(flagged).toEqual(['2024-03-08T20:30:00.000Z', '2024-03-11T19:30:00.000Z']); // 15:30 bars, EST then EDT
  });
});

describe('custom windows', () => {
  it('A-share: two windows in UTC+8 with a lunch break, one session id', () => {
    const ts = sessionTimestamps('cn-a', at('2024-06-18T00:00Z'), at('2024-06-19T00:00Z'), 5 * M);
    expect(ts.length).toBe(48);
    expect(new Date(ts[0]).toISOString()).toBe('2024-06-18T01:30:00.000Z');
    expect(new Date(ts[23]).toISOString()).toBe('2024-06-18T03:25:00.000Z');
    expect(new Date(ts[24]).toISOString()).toBe('2024-06-18T05:00:00.000Z');
    const idx = sessionIndex(ts, 'cn-a');
    expect(new Set(idx.sessionId)).toEqual(new Set([20240618]));
    expect(idx.windowStart[23]).not.toBe(idx.windowStart[24]);
  });

  it('holidays and weekdays of a custom spec; bad specs are ConfigErrors', () => {
    const spec: SessionSpec = { kind: 'calendar', name: 'x', timeZone: 'Europe/London', windows: [{ start: '08:00', end: '16:30' }], holidays: ['2024-12-25'] };
    expect(sessionTimestamps(spec, at('2024-12-23T00:00Z'), at('2024-12-28T00:00Z'), 30 * M).length).toBe(4 * 17);
    expect(() => compileSession({ ...spec, windows: [{ start: '10:00', end: '09:00' }] })).toThrow(ConfigError);
    expect(() => compileSession({ ...spec, timeZone: 'Mars/Base' })).toThrow(/unknown time zone/);
    expect(() => compileSession('nyse' as never)).toThrow(/unknown session/);
  });

  it('24x7: sessions are UTC days', () => {
    const ts = Float64Array.from([at('2024-01-01T23:55Z'), at('2024-01-02T00:00Z')]);
    expect(Array.from(sessionIndex(ts, '24x7').sessionId)).toEqual([20240101, 20240102]);
    expect(Array.from(lastBarOfSession(ts, '24x7'))).toEqual([1, 1]);
  });
});

describe('window runs', () => {
  const cases: [string, SessionLike, number, string, string][] = [
    ['us-rth over both 2024 DST changes, pre- and after-hours bars', 'us-rth', M, '2024-03-07T08:00Z', '2024-03-13T02:00Z'],
    ['us-rth in November, a holiday week', 'us-rth', 5 * M, '2024-10-30T00:00Z', '2024-11-30T00:00Z'],
    ['us-ext', 'us-ext', 5 * M, '2024-03-08T00:00Z', '2024-03-12T00:00Z'],
    ['cn-a with its lunch break', 'cn-a', M, '2024-06-17T00:00Z', '2024-06-20T00:00Z'],
    ['24x7 across midnights', '24x7', 5 * M, '2024-01-01T00:00Z', '2024-01-04T00:00Z'],
  ];
  for (const [name, session, barMs, from, to] of cases) {
    it(`${name}: runs expand to the per-bar lookup, and adjacent runs differ`, () => {
      for (const a of [randomBars(7, from, to, barMs, 0.8), shuffledSome(randomBars(8, from, to, barMs, 0.8), 9, 50)]) {
        const runs = windowRuns(a.ts, session);
        const ref = referenceSessionIndex(a.ts, session);
        const idx = sessionIndex(a.ts, session);
        expect(Array.from(idx.sessionId)).toEqual(Array.from(ref.sessionId));
        expect(Array.from(idx.windowStart)).toEqual(Array.from(ref.windowStart));
        expect(Array.from(idx.windowEnd)).toEqual(Array.from(ref.windowEnd));
        expect(runs.start[0]).toBe(0);
        expect(runs.start[runs.count]).toBe(a.ts.length);
        for (let r = 0; r < runs.count; r++) {
          expect(runs.start[r + 1]).toBeGreaterThan(runs.start[r]);
          const i = runs.start[r];
          expect([runs.sessionId[r], runs.windowStart[r], runs.windowEnd[r]]).toEqual([ref.sessionId[i], ref.windowStart[i], ref.windowEnd[i]]);
          if (r > 0) expect([runs.sessionId[r], runs.windowStart[r]]).not.toEqual([runs.sessionId[r - 1], runs.windowStart[r - 1]]);
        }
      }
    });
  }

  it('sorted bars: one run per window with bars, one per stretch outside', () => {
    const day = sessionTimestamps('cn-a', at('2024-06-18T00:00Z'), at('2024-06-19T00:00Z'), 5 * M);
    const ts = Float64Array.from([at('2024-06-18T01:00Z'), at('2024-06-18T01:10Z'), ...day, at('2024-06-18T08:00Z')]);
    const runs = windowRuns(ts, 'cn-a');
    expect(runs.count).toBe(4); // before the open, morning, afternoon, after the close
    expect(Array.from(runs.start)).toEqual([0, 2, 26, 50, 51]);
    expect(Array.from(runs.sessionId)).toEqual([-1, 20240618, 20240618, -1]);
    expect(windowRuns(new Float64Array(0), 'cn-a').count).toBe(0);
  });
});
