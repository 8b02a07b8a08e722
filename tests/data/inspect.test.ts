import { describe, expect, it } from 'vitest';
import { arraysToBars, type BarArrays } from '../../src/data/bars';
import { inspectBars } from '../../src/data/inspect';

const M = 60_000;
const at = (iso: string): number => Date.parse(iso);
function series(symbol: string, ts: number[]): BarArrays {
  const c = new Float64Array(ts.length).fill(10);
  return { ts: Float64Array.from(ts), open: c.slice(), high: c.map((x) => x + 1), low: c.map((x) => x - 1), close: c,
    volume: new Float64Array(ts.length).fill(7), symbol };
}

describe('inspectBars', () => {
  it('interval, sessions and gaps per symbol; unsorted and one-bar symbols get no gap counts', () => {
    const t0 = at('2024-03-11T13:30Z');
    const bars = arraysToBars([
      // steps 1m, 1m, 3m, 1m: interval 1m, 2 bars filled inside the 09:30-16:00 window
      series('AAA', [t0, t0 + M, t0 + 2 * M, t0 + 5 * M, t0 + 6 * M]),
      // one step of 1m and one of 2m: the tie goes to the smaller step
      series('TIE', [t0, t0 + M, t0 + 3 * M]),
      series('ONE', [t0]),
      // backwards: a problem, and no gap counts
      series('BAD', [t0 + M, t0, t0 + 2 * M]),
    ]);
    const r = inspectBars(bars, 'us-rth');
    const by = Object.fromEntries(r.symbols.map((x) => [x.symbol, x]));
    expect(by.AAA).toEqual({
      symbol: 'AAA',
      rows: 5,
      first: '2024-03-11T13:30:00.000Z',
      last: '2024-03-11T13:36:00.000Z',
      interval: '1m',
      sessions: 1,
      sessionsWithGaps: 1,
      missingBars: 2,
      edgeMissing: 390 - 7,
      outsideSession: 0,
    });
    expect(by.TIE.interval).toBe('1m');
    expect(by.TIE.missingBars).toBe(1);
    expect(by.ONE).toMatchObject({ interval: 'one bar', sessions: 1, sessionsWithGaps: 0, missingBars: 0, edgeMissing: 0 });
    expect(by.BAD).toMatchObject({ interval: '2m', first: '2024-03-11T13:30:00.000Z', last: '2024-03-11T13:32:00.000Z', sessions: 1, sessionsWithGaps: 0, missingBars: 0 });
    expect(r.problemCounts.unsorted).toBe(1);
    expect(r.first).toBe('2024-03-11T13:30:00.000Z');
    expect(r.last).toBe('2024-03-11T13:36:00.000Z');
  });

  it('counts the sessions of recorded bars, not of bars filled across a whole missing day', () => {
    const bars = arraysToBars(series('X', [at('2024-01-01T22:00Z'), at('2024-01-01T23:00Z'), at('2024-01-03T00:00Z')]));
    const [x] = inspectBars(bars, '24x7').symbols;
    expect(x.interval).toBe('1h');
    expect(x.missingBars).toBe(24);
    expect(x.sessions).toBe(2);
    // the filled bars lie on Jan 2 (23 bars) and Jan 1 (none: 23:00 is followed by 00:00 of Jan 2)
    expect(x.sessionsWithGaps).toBe(1);
  });
});
