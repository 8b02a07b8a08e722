import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/core/errors';
import { assignBins, binTotals, binner, quantileEdges, uniformEdges } from '../../src/calibration/bins';
import { Rng } from '../../src/core/random';
import { reliabilityBins, reliabilityTable } from '../../src/calibration/reliability';
import { wilsonInterval } from '../../src/calibration/wilson';
import { close, sklearn } from './reference';

describe('reliabilityTable', () => {
  it('reproduces the calibration_curve docstring example by hand', () => {
    const p = [0.1, 0.2, 0.3, 0.4, 0.65, 0.7, 0.8, 0.9, 1];
    const y = [0, 0, 0, 0, 1, 1, 1, 1, 1];
    const t = reliabilityTable(p, y, { bins: 3 });
    expect(Array.from(t.count)).toEqual([3, 2, 4]); // [0, 1/3], (1/3, 2/3], (2/3, 1]
    expect(Array.from(t.observed)).toEqual([0, 0.5, 1]);
    expect(t.meanPredicted[0]).toBeCloseTo(0.2, 15);
    expect(t.meanPredicted[1]).toBeCloseTo(0.525, 15);
    expect(t.meanPredicted[2]).toBeCloseTo(0.85, 15);
  });

  it('matches scikit-learn calibration_curve: edges, counts, observed and mean forecast per non-empty bin', () => {
    expect(sklearn.calibrationCurve.length).toBe(12);
    for (const c of sklearn.calibrationCurve) {
      const t = reliabilityTable(c.p, c.y, { bins: c.bins, strategy: c.strategy });
      const label = `${c.data} ${c.strategy} ${c.bins}`;
      c.edges.forEach((e, i) => expect(close(t.edges[i], e, 1e-15), `${label} edge ${i}`).toBe(true));
      expect(Array.from(t.count), label).toEqual(c.counts);
      const filled = [...t.count.keys()].filter((b) => t.count[b] > 0);
      expect(filled.map((b) => t.observed[b]).every((v, k) => close(v, c.probTrue[k], 1e-14)), label).toBe(true);
      expect(filled.map((b) => t.meanPredicted[b]).every((v, k) => close(v, c.probPred[k], 1e-14)), label).toBe(true);
    }
  });

  it('bins are right-closed on the numpy linspace edges (0.30000000000000004 is the edge of bin 3)', () => {
    const edges = uniformEdges(10);
    expect(edges[3]).toBe(0.30000000000000004);
    expect(Array.from(assignBins([0, 0.1, 0.3, 0.30000000000000004, 0.30000000000000010, 1], edges))).toEqual([0, 0, 2, 2, 3, 9]);
  });

  it('finds the right-closed bin for any edges, values on edges and tied edges included', () => {
    const rng = new Rng(31);
    // Reference: numpy searchsorted(edges[1:-1], v, side='left') = number of inner edges below v.
    const reference = (edges: number[], v: number): number => edges.slice(1, -1).filter((e) => e < v).length;
    for (let trial = 0; trial < 50; trial++) {
      const nBins = 1 + rng.int(12);
      const edges = Array.from({ length: nBins + 1 }, () => (rng.uniform() < 0.3 ? 0.5 : rng.uniform())).sort((a, b) => a - b);
      const values = [...edges, ...Array.from({ length: 40 }, () => rng.uniform() * 1.2 - 0.1)];
      const binOf = binner(Float64Array.from(edges));
      for (const v of values) expect(binOf(v)).toBe(reference(edges, v));
    }
  });

  it('totals per bin in one pass exactly as binning each value and summing would', () => {
    const rng = new Rng(32);
    const n = 5000;
    const p = Float64Array.from({ length: n }, (_, i) => (i % 50 === 0 ? uniformEdges(10)[rng.int(11)] : rng.uniform() ** 2));
    const y = Float64Array.from(p, (v) => (rng.bernoulli(v) ? 1 : 0));
    const tied = Float64Array.of(0, 0.2, 0.2, 0.2, 0.7, 1); // repeated edges: empty bins
    for (const edges of [uniformEdges(10), quantileEdges(p, 7), tied, Float64Array.of(0.3, 0.3)]) {
      const bin = assignBins(p, edges);
      const count = new Float64Array(edges.length - 1);
      const sumY = new Float64Array(edges.length - 1);
      const sumX = new Float64Array(edges.length - 1);
      for (let i = 0; i < n; i++) {
        count[bin[i]]++;
        sumY[bin[i]] += y[i];
        sumX[bin[i]] += p[i];
      }
      expect(binTotals(p, y, edges)).toEqual({ count, sumY, sumX });
    }
  });

  it('reports empty bins as empty, with null statistics in the records', () => {
    const t = reliabilityTable([0.05, 0.1, 0.95, 0.9, 0.85], [0, 0, 1, 1, 0], { bins: 5 });
    expect(Array.from(t.count)).toEqual([2, 0, 0, 0, 3]);
    expect(Number.isNaN(t.observed[2])).toBe(true);
    const bins = reliabilityBins(t);
    expect(bins[1]).toEqual({ lo: 0.2, hi: 0.4, count: 0, meanPredicted: null, observed: null, ciLow: null, ciHigh: null });
    expect(bins[0].observed).toBe(0);
    expect(bins[0].ciLow).toBe(0);
    expect(bins[0].ciHigh).toBeCloseTo(0.6576198, 6); // Wilson 95% for 0 of 2
  });

  it('quantile edges of tied forecasts repeat, leaving empty bins', () => {
    const p = [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.8, 0.9];
    // numpy.percentile gives the same 0.35000000000000003.
    expect(Array.from(quantileEdges(p, 4))).toEqual([0.2, 0.2, 0.2, 0.35000000000000003, 0.9]);
    const t = reliabilityTable(p, [0, 1, 0, 0, 0, 1, 1, 1], { bins: 4, strategy: 'quantile' });
    expect(Array.from(t.count)).toEqual([6, 0, 0, 2]);
    expect(t.observed[0]).toBeCloseTo(2 / 6, 15);
  });
});

describe('wilsonInterval', () => {
  it('matches published values', () => {
    const [lo, hi] = wilsonInterval(8, 10);
    expect(lo).toBeCloseTo(0.4901625, 6);
    expect(hi).toBeCloseTo(0.9433178, 6);
    const [lo2, hi2] = wilsonInterval(50, 100);
    expect(lo2).toBeCloseTo(0.4038315, 6);
    expect(hi2).toBeCloseTo(0.5961685, 6);
  });

  it('has no interval for an empty sample', () => {
    expect(wilsonInterval(0, 0).every(Number.isNaN)).toBe(true);
  });
});

describe('reliabilityTable bad input', () => {
  it('names the row and value of a probability outside [0, 1] or NaN', () => {
    expect(() => reliabilityTable([0.1, 1.2], [0, 1], { bins: 1 })).toThrow(/probability must be in \[0, 1\] \(row 1, column "p", value 1.2\)/);
    expect(() => reliabilityTable([0.1, NaN], [0, 1], { bins: 1 })).toThrow(/probability is NaN \(row 1/);
    expect(() => reliabilityTable([-0.1, 0.5], [0, 1], { bins: 1 })).toThrow(DataError);
  });

  it('rejects outcomes other than 0/1', () => {
    expect(() => reliabilityTable([0.1, 0.5], [0, 2], { bins: 1 })).toThrow(/outcome must be 0 or 1 \(row 1, column "outcome", value 2\)/);
    expect(() => reliabilityTable([0.1, 0.5], [0, 0.5], { bins: 1 })).toThrow(DataError);
  });

  it('names the same rows for typed inputs (their one-pass check falls back to the row-naming checks)', () => {
    const p = Float64Array.of(0.1, 0.5, 0.7, 0.2);
    const y = Float64Array.of(0, 1, 1, 0);
    expect(reliabilityTable(p, y, { bins: 2 }).n).toBe(4);
    expect(() => reliabilityTable(Float64Array.of(0.1, 0.5, 1 + 1e-12, 0.2), y, { bins: 1 })).toThrow(/probability must be in \[0, 1\] \(row 2/);
    expect(() => reliabilityTable(Float64Array.of(0.1, 0.5, 0.7, NaN), y, { bins: 1 })).toThrow(/probability is NaN \(row 3/);
    expect(() => reliabilityTable(p, Float64Array.of(0, 1, 1e-300, 0), { bins: 1 })).toThrow(/outcome must be 0 or 1 \(row 2/);
    expect(() => reliabilityTable(p, Float64Array.of(0, 1, 1, Infinity), { bins: 1 })).toThrow(/outcome must be 0 or 1 \(row 3/);
  });

  it('rejects different lengths, no points, fewer points than bins, bad bins or strategy', () => {
    expect(() => reliabilityTable([0.1, 0.5], [0], { bins: 1 })).toThrow(/lengths differ: p has 2 values, outcome has 1/);
    expect(() => reliabilityTable([], [], { bins: 1 })).toThrow(/empty input/);
    expect(() => reliabilityTable([0.1, 0.5, 0.7], [0, 1, 1], { bins: 10 })).toThrow(/fewer points \(3\) than bins \(10\)/);
    expect(() => reliabilityTable([0.1, 0.5], [0, 1], { bins: 0 })).toThrow(ConfigError);
    expect(() => reliabilityTable([0.1, 0.5], [0, 1], { bins: 1.5 })).toThrow(ConfigError);
    expect(() => reliabilityTable([0.1, 0.5], [0, 1], { bins: 2, strategy: 'kmeans' as never })).toThrow(/unknown bin strategy/);
  });

  it('names the file and columns it was given', () => {
    expect(() => reliabilityTable([0.1, 7], [0, 1], { bins: 1, names: { file: 'f.csv', prob: 'pUp', outcome: 'up' } })).toThrow(
      /\(file f.csv, row 1, column "pUp", value 7\)/,
    );
  });
});
