import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { aggregateSamples, parseAggregate } from '../../src/forecast/aggregate';
import { quantileSorted } from '../../src/stats/order';
import { quantileFunction, quantilesFromSamples, samplesFromQuantiles } from '../../src/forecast/distribution';

describe('sample aggregation by name', () => {
  it('parses the names configs use', () => {
    expect(parseAggregate('mean')).toEqual({ kind: 'mean' });
    expect(parseAggregate('median')).toEqual({ kind: 'median' });
    expect(parseAggregate('trimmed_mean_5')).toEqual({ kind: 'trimmedMean', p: 0.05 });
    expect(parseAggregate('winsorized_mean_10')).toEqual({ kind: 'winsorizedMean', p: 0.1 });
    expect(parseAggregate('winsorized_mean')).toEqual({ kind: 'winsorizedMean', p: 0.1 });
    expect(parseAggregate('quantile_0.50')).toEqual({ kind: 'quantile', q: 0.5 });
    for (const bad of ['avg', 'trimmed_mean_50', 'quantile_1.5', 'quantile_']) expect(() => parseAggregate(bad)).toThrow(ConfigError);
  });

  it('computes each aggregate by hand on ten values with an outlier', () => {
    // one window, ten samples, one step: 1..9 and 100
    const data = new Float64Array([100, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const s = { data, dims: [1, 10, 1] as [number, number, number] };
    expect(aggregateSamples(s, 'mean')[0]).toBeCloseTo(14.5, 12);
    expect(aggregateSamples(s, 'median')[0]).toBeCloseTo(5.5, 12);
    // 10% per tail drops 1 and 100: mean of 2..9 = 5.5
    expect(aggregateSamples(s, 'trimmed_mean_10')[0]).toBeCloseTo(5.5, 12);
    // 10% winsorized: 1 -> 2, 100 -> 9: (2 + 2..9 + 9) / 10 = 5.5
    expect(aggregateSamples(s, 'winsorized_mean_10')[0]).toBeCloseTo(5.5, 12);
    // 20% winsorized: [3,3,3,4,5,6,7,8,8,8] -> 55/10
    expect(aggregateSamples(s, 'winsorized_mean_20')[0]).toBeCloseTo(5.5, 12);
    // type 7: h = 9 * 0.25 = 2.25 -> 3 + 0.25 * (4 - 3)
    expect(aggregateSamples(s, 'quantile_0.25')[0]).toBeCloseTo(3.25, 12);
  });

  it('aggregates per window and step of a [B, N, H] tensor', () => {
    // B = 2, N = 3, H = 2
    const data = new Float64Array([1, 10, 2, 20, 3, 30, /* window 1 */ 4, 40, 6, 60, 5, 50]);
    expect(Array.from(aggregateSamples({ data, dims: [2, 3, 2] }, 'median'))).toEqual([2, 20, 5, 50]);
  });
});

describe('quantiles <-> samples', () => {
  it('takes type-7 empirical quantiles of samples', () => {
    const data = new Float64Array([4, 1, 3, 2]);
    const q = quantilesFromSamples({ data, dims: [1, 4, 1] }, [0.1, 0.5, 0.9]);
    expect(Array.from(q.data)).toEqual([quantileSorted([1, 2, 3, 4], 0.1), 2.5, quantileSorted([1, 2, 3, 4], 0.9)]);
    expect(q.data[0]).toBeCloseTo(1.3, 12);
  });

  it('inverts a piecewise-linear quantile function with linear tails', () => {
    expect(quantileFunction([0.1, 0.5, 0.9], [0, 4, 12], 0.3)).toBeCloseTo(2, 12);
    expect(quantileFunction([0.1, 0.5, 0.9], [0, 4, 12], 0.7)).toBeCloseTo(8, 12);
    expect(quantileFunction([0.1, 0.5, 0.9], [0, 4, 12], 0.0)).toBeCloseTo(-1, 12);
    expect(quantileFunction([0.1, 0.5, 0.9], [0, 4, 12], 1.0)).toBeCloseTo(14, 12);
    const s = samplesFromQuantiles([0.1, 0.5, 0.9], { data: new Float64Array([0, 4, 12]), dims: [1, 3, 1] }, 4);
    // levels 0.125, 0.375, 0.625, 0.875
    expect(Array.from(s.data).map((v) => +v.toFixed(10))).toEqual([0.25, 2.75, 6.5, 11.5]);
  });
});
