import { describe, expect, it } from 'vitest';
import { Rng, stationaryBootstrapIndices } from '../../src/core/random';
import { ConfigError } from '../../src/core/errors';

describe('Rng', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const xa = Array.from({ length: 5 }, () => a.nextUint32());
    const xb = Array.from({ length: 5 }, () => b.nextUint32());
    const xc = Array.from({ length: 5 }, () => c.nextUint32());
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
  });

  it('draws uniforms in [0, 1) with the right mean and variance', () => {
    const rng = new Rng(1);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      if (u < lo) lo = u;
      if (u > hi) hi = u;
      s += u;
      s2 += u * u;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    const mean = s / n;
    expect(mean).toBeCloseTo(0.5, 2);
    expect(s2 / n - mean * mean).toBeCloseTo(1 / 12, 2);
  });

  it('draws standard normals with mean 0, variance 1 and the right tail mass', () => {
    const rng = new Rng(2);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let beyond196 = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
      if (Math.abs(z) > 1.96) beyond196++;
    }
    expect(s / n).toBeCloseTo(0, 1);
    expect(s2 / n).toBeCloseTo(1, 1);
    expect(beyond196 / n).toBeGreaterThan(0.045);
    expect(beyond196 / n).toBeLessThan(0.055);
  });

  it('draws unbiased integers and rejects bad bounds', () => {
    const rng = new Rng(3);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[rng.int(6)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
    expect(() => rng.int(0)).toThrow(ConfigError);
    expect(() => rng.int(2.5)).toThrow(ConfigError);
  });

  it('draws gamma variates with mean k*theta', () => {
    const rng = new Rng(4);
    for (const k of [0.5, 2, 7]) {
      let s = 0;
      const n = 50_000;
      for (let i = 0; i < n; i++) s += rng.gamma(k, 1.5);
      expect(s / n).toBeCloseTo(k * 1.5, 0);
    }
  });

  it('forks independent streams without advancing the parent', () => {
    const a = new Rng(9);
    const f1 = a.fork('x').uniform();
    const first = a.uniform();
    const b = new Rng(9);
    expect(b.uniform()).toBe(first);
    expect(new Rng(9).fork('x').uniform()).toBe(f1);
    expect(new Rng(9).fork('y').uniform()).not.toBe(f1);
  });

  it('rejects non-integer seeds', () => {
    expect(() => new Rng(Number.NaN)).toThrow(ConfigError);
    expect(() => new Rng(1.5)).toThrow(/seed must be a finite integer/);
  });
});

describe('stationaryBootstrapIndices', () => {
  it('draws int(n) first, then uniform() and on a restart int(n) per step, in that order', () => {
    // The order is a contract: the historical baseline and the backtest's Monte Carlo rely on it.
    const n = 17;
    const L = 3;
    const got = stationaryBootstrapIndices(n, L, new Rng(11), new Int32Array(40));
    const rng = new Rng(11);
    const want: number[] = [rng.int(n)];
    for (let k = 1; k < 40; k++) want.push(rng.uniform() < 1 / L ? rng.int(n) : (want[k - 1] + 1) % n);
    expect(Array.from(got)).toEqual(want);
  });

  it('with mean block length 1 restarts at every step (the iid bootstrap)', () => {
    const rng = new Rng(3);
    const want = [rng.int(9)];
    for (let k = 1; k < 30; k++) {
      rng.uniform();
      want.push(rng.int(9));
    }
    expect(Array.from(stationaryBootstrapIndices(9, 1, new Rng(3), new Int32Array(30)))).toEqual(want);
  });
});
