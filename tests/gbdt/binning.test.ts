import { describe, expect, it } from 'vitest';
import { binMatrix, quantileCuts, MISSING_BIN, CUT_SAMPLE_ROWS } from '../../src/gbdt/binning';
import { ConfigError } from '../../src/core/errors';
import { Rng } from '../../src/core/random';
import { thrownBy } from '../support/errors';

describe('quantileCuts', () => {
  it('puts one bin per distinct value when there are few, cutting at the values above the minimum', () => {
    const c = quantileCuts(new Float32Array([3, 1, 2, NaN, 2, 1]), 1);
    expect(Array.from(c.cuts[0]!)).toEqual([2, 3, Math.fround(3 + 3 + 1e-5)]);
    expect(c.minValues[0]).toBe(1);
  });

  it('makes at most maxBin bins of about equal counts for many distinct values', () => {
    const rng = new Rng(1);
    const x = new Float32Array(10_000).map(() => rng.normal());
    const c = quantileCuts(x, 1, 16);
    expect(c.cuts[0]!.length).toBe(16);
    const bm = binMatrix(x, c);
    const counts = new Array(16).fill(0);
    for (let r = 0; r < 10_000; r++) counts[bm.bins[r * bm.stride]!]++;
    for (const k of counts) expect(Math.abs(k - 625)).toBeLessThanOrEqual(2);
  });

  it('sorts negative, zero and positive values correctly (radix keys)', () => {
    const x = new Float32Array([-5, 0, -0.5, 7, 1e-30, -1e30, 3]);
    const c = quantileCuts(x, 1);
    expect(Array.from(c.cuts[0]!.subarray(0, 6))).toEqual([-5, -0.5, 0, 1e-30, 3, 7].map(Math.fround));
    expect(c.minValues[0]).toBe(Math.fround(-1e30));
  });

  it('gives an all-missing feature a single bin', () => {
    const c = quantileCuts(new Float32Array([NaN, 1, NaN, 2]), 2);
    expect(c.cuts[0]!.length).toBe(1);
    expect(Number.isNaN(c.minValues[0]!)).toBe(true);
  });

  it('rejects bad maxBin and shapes with ConfigError', () => {
    expect(thrownBy(() => quantileCuts(new Float32Array(4), 1, 300), ConfigError).location.key).toBe('maxBin');
    expect(thrownBy(() => quantileCuts(new Float32Array(5), 2), ConfigError).location.key).toBe('numFeature');
  });
});

describe('binMatrix', () => {
  it('satisfies bin(x) <= b exactly when x < cuts[b], the comparison prediction makes', () => {
    const rng = new Rng(7);
    const F = 3;
    const x = new Float32Array(3000 * F).map((_, i) => (i % 17 === 0 ? NaN : i % F === 2 ? Math.round(rng.normal() * 3) : rng.normal()));
    const cuts = quantileCuts(x, F, 32);
    const bm = binMatrix(x, cuts);
    expect(bm.stride).toBe(4);
    const bad: string[] = [];
    for (let r = 0; r < 3000; r++) {
      for (let f = 0; f < F; f++) {
        const v = x[r * F + f]!;
        const b = bm.bins[r * bm.stride + f]!;
        if (Number.isNaN(v)) {
          if (b !== MISSING_BIN) bad.push(`${r},${f}: NaN in bin ${b}`);
          continue;
        }
        const c = cuts.cuts[f]!;
        for (let k = 0; k < c.length - 1; k++) if (b <= k !== v < c[k]!) bad.push(`${r},${f}: ${v} in bin ${b}, cut ${k} = ${c[k]}`);
      }
      if (bm.bins[r * bm.stride + 3] !== MISSING_BIN) bad.push(`${r}: padding`);
    }
    expect(bad).toEqual([]);
  });

  it('keeps the exact minimum and maximum when the cuts come from a row sample', () => {
    const n = CUT_SAMPLE_ROWS + 5000;
    const x = new Float32Array(n).map((_, i) => i);
    const c = quantileCuts(x, 1, 255, 3);
    expect(c.minValues[0]).toBe(0);
    const last = c.cuts[0]![c.cuts[0]!.length - 1]!;
    expect(last).toBeGreaterThan(n - 1);
    const again = quantileCuts(x, 1, 255, 3);
    expect(Array.from(again.cuts[0]!)).toEqual(Array.from(c.cuts[0]!));
  });
});
