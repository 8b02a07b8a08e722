import { describe, expect, it } from 'vitest';
import { forwardReturnLabels, tripleBarrierLabels } from '../../src/signal/labels';
import { ConfigError } from '../../src/core/errors';
import { thrownBy } from '../support/errors';

describe('forwardReturnLabels', () => {
  it('labels 1 only when the forward log return beats the cost, and says where each label ends', () => {
    const close = new Float64Array([100, 100.05, 101, 100.5, 102]);
    const l = forwardReturnLabels(close, 1, 0.001);
    // log(100.05/100) = 0.0005 < 0.001: not worth it.
    expect(Array.from(l.y)).toEqual([0, 1, 0, 1, NaN]);
    expect(Array.from(l.end)).toEqual([1, 2, 3, 4, 4]);
    expect(l.ret[1]).toBeCloseTo(Math.log(101 / 100.05) - 0.001, 12);
    const two = forwardReturnLabels(close, 2);
    expect(Array.from(two.y)).toEqual([1, 1, 1, NaN, NaN]);
    expect(thrownBy(() => forwardReturnLabels(close, 0), ConfigError).location.key).toBe('horizon');
  });
});

describe('tripleBarrierLabels', () => {
  // Barriers at exp(+-0.02) around each close.
  const close = new Float64Array([100, 100, 100, 100, 100, 100, 100, 100]);
  const high = new Float64Array([100, 100.5, 103, 100, 100, 103, 100.2, 100.4]);
  const low = new Float64Array([100, 99.5, 99.9, 97, 99.9, 97, 99.8, 99.9]);
  const scale = new Float64Array(8).fill(0.02);

  it('takes the first barrier touched, the sign at the time limit, and counts double touches as stops', () => {
    const l = tripleBarrierLabels(high, low, close, { horizon: 2, scale });
    // t=0: bar 2 high 103 > 102.02 -> take-profit at bar 2.
    expect([l.y[0], l.barrier[0], l.end[0]]).toEqual([1, 1, 2]);
    // t=1: bar 2 take-profit.
    expect([l.y[1], l.barrier[1], l.end[1]]).toEqual([1, 1, 2]);
    // t=2: bar 3 low 97 < 98.02 -> stop.
    expect([l.y[2], l.barrier[2], l.end[2]]).toEqual([0, -1, 3]);
    // t=4: bar 5 touches both -> stop, counted ambiguous.
    expect([l.y[4], l.barrier[4], l.end[4]]).toEqual([0, -1, 5]);
    expect(l.ambiguous).toBe(2);
    // t=5: bars 6-7 inside the barriers -> time limit, return 0 -> 0.
    expect([l.y[5], l.barrier[5], l.end[5]]).toEqual([0, 0, 7]);
    expect(Number.isNaN(l.y[6]!)).toBe(true);
    expect(l.ret[0]).toBeCloseTo(0.02, 12);
    expect(l.ret[2]).toBeCloseTo(-0.02, 12);
  });

  it('scales the barriers by takeProfit and stopLoss multiples', () => {
    const l = tripleBarrierLabels(high, low, close, { horizon: 2, scale, takeProfit: 2, stopLoss: 0.1 });
    // tp at exp(0.04) = 104.08: never; stop at exp(-0.002) = 99.8: bar 1's low 99.5.
    expect([l.y[0], l.barrier[0], l.end[0]]).toEqual([0, -1, 1]);
    expect(thrownBy(() => tripleBarrierLabels(high, low, close, { horizon: 2, scale, stopLoss: 0 }), ConfigError).location.key).toBe('takeProfit');
  });
});
