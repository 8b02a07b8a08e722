import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors';
import { pathsFromQuantiles } from '../../../src/forecast/paths/copula';
import { normalQuantile } from '../../../src/stats/normal';
import { QuantileCurve } from '../../../src/forecast/paths/quantileCurve';
import { barrierStats } from '../../../src/forecast/paths/stats';
import type { Tensor3 } from '../../../src/forecast/types';

const LEVELS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const H = 20;
const SIGMA = 0.002; // per-step log volatility of a random walk from 100

/** Quantiles [1, 9, H] of a zero-drift log random walk: step h is log-normal with sd sigma sqrt(h). */
function walkQuantiles(): Tensor3 {
  const data = new Float64Array(LEVELS.length * H);
  LEVELS.forEach((u, k) => {
    for (let h = 0; h < H; h++) data[k * H + h] = 100 * Math.exp(SIGMA * Math.sqrt(h + 1) * normalQuantile(u));
  });
  return { data, dims: [1, LEVELS.length, H] };
}

function spearman(a: Float64Array, b: Float64Array): number {
  const rank = (x: Float64Array) => {
    const idx = Array.from(x.keys()).sort((i, j) => x[i] - x[j]);
    const r = new Float64Array(x.length);
    idx.forEach((i, k) => (r[i] = k));
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = a.length;
  const m = (n - 1) / 2;
  let sab = 0;
  let saa = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i] - m) * (rb[i] - m);
    saa += (ra[i] - m) ** 2;
  }
  return sab / saa;
}

describe('pathsFromQuantiles', () => {
  const N = 4000;
  const q = { levels: LEVELS, values: walkQuantiles() };
  const brownian = pathsFromQuantiles(q, N, 11);
  const column = (data: Float64Array, h: number) => Float64Array.from({ length: N }, (_, j) => data[j * H + h]);

  it('keeps every step marginal: the share below each knot is its level (within 3 MC s.e.)', () => {
    for (const h of [0, 4, 19]) {
      const col = column(brownian.samples.data, h);
      LEVELS.forEach((u, k) => {
        const knot = q.values.data[k * H + h];
        const share = col.filter((x) => x <= knot).length / N;
        expect(Math.abs(share - u)).toBeLessThan(3 * Math.sqrt((u * (1 - u)) / N));
      });
    }
  });

  it('joins steps like a random walk: rank correlation (6/pi) asin(sqrt(h/k)/2)', () => {
    for (const [h, k] of [[1, 4], [5, 20], [10, 11]]) {
      const expected = (6 / Math.PI) * Math.asin(Math.sqrt(h / k) / 2);
      expect(spearman(column(brownian.samples.data, h - 1), column(brownian.samples.data, k - 1))).toBeCloseTo(expected, 1);
    }
  });

  it('reproduces a log random walk: touch probabilities agree with paths simulated directly', () => {
    // Direct simulation of the same walk (exact Gaussian steps) as the reference.
    const direct = new Float64Array(N * H);
    let seed = 12345;
    const uniform = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
    for (let j = 0; j < N; j++) {
      let x = 0;
      for (let h = 0; h < H; h++) {
        x += SIGMA * normalQuantile(uniform());
        direct[j * H + h] = 100 * Math.exp(x);
      }
    }
    const barrier = { name: 'up', price: 100 * Math.exp(2 * SIGMA * Math.sqrt(H) * 0.5) };
    const ref = barrierStats({ close: direct, n: N, horizon: H }, 100, barrier).pHit;
    const got = barrierStats({ close: brownian.samples.data, n: N, horizon: H }, 100, barrier).pHit;
    expect(Math.abs(got - ref)).toBeLessThan(4 * Math.sqrt((2 * ref * (1 - ref)) / N));
    // The other copulas get the same marginals but the wrong touch probabilities.
    const comonotone = barrierStats({ close: pathsFromQuantiles(q, N, 11, { dependence: 'comonotone' }).samples.data, n: N, horizon: H }, 100, barrier).pHit;
    const independent = barrierStats({ close: pathsFromQuantiles(q, N, 11, { dependence: 'independent' }).samples.data, n: N, horizon: H }, 100, barrier).pHit;
    expect(comonotone).toBeLessThan(ref - 0.05);
    expect(independent).toBeGreaterThan(ref + 0.1);
  });

  it('comonotone: path j reads level (j + 0.5) / N at every step', () => {
    const c = pathsFromQuantiles(q, 4, 0, { dependence: 'comonotone' });
    const curve = new QuantileCurve(LEVELS, LEVELS.map((_, k) => q.values.data[k * H + 7]));
    for (let j = 0; j < 4; j++) expect(c.samples.data[j * H + 7]).toBeCloseTo(curve.quantile((j + 0.5) / 4), 9);
    expect(c.method).toMatch(/comonotone/);
  });

  it('is deterministic per seed, counts rearranged steps and says how paths were drawn', () => {
    expect(pathsFromQuantiles(q, 50, 11).samples.data).toEqual(pathsFromQuantiles(q, 50, 11).samples.data);
    expect(pathsFromQuantiles(q, 50, 12).samples.data).not.toEqual(pathsFromQuantiles(q, 50, 11).samples.data);
    const crossed = { levels: [0.1, 0.5, 0.9], values: { data: Float64Array.of(99, 101, 100, 100, 101, 102), dims: [1, 3, 2] as [number, number, number] } };
    const r = pathsFromQuantiles(crossed, 10, 1);
    expect(r.rearrangedSteps).toBe(1); // step 1 reads 99, 100, 101 (fine); step 2 reads 101, 100, 102 (crossed)
    expect(brownian.method).toMatch(/Brownian copula/);
    expect(brownian.method).toMatch(/exponential tails/);
    expect(() => pathsFromQuantiles(q, 0, 1)).toThrow(ConfigError);
  });
});
