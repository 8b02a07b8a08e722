import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../../src/core/errors';
import { Rng } from '../../../src/core/random';
import { ece } from '../../../src/calibration/ece';
import { pathsToCalibration } from '../../../src/forecast/paths/calibration';
import { pitHistogram } from '../../../src/calibration/pit';
import { reliabilityTable } from '../../../src/calibration/reliability';

describe('pathsToCalibration', () => {
  it('gives pUp, outcome and PIT at the evaluated step, by hand', () => {
    // One forecast, 3 paths of 2 steps: ends 102, 100, 97; last price 100; realised 101.
    const r = pathsToCalibration({ paths: [101, 102, 99, 100, 98, 97], shape: [1, 3, 2], lastPrice: [100], realized: [101] });
    expect(r.step).toBe(1);
    expect(r.pUp[0]).toBeCloseTo(1 / 3, 15);
    expect(Array.from(r.outcome)).toEqual([1]);
    expect(r.pit[0]).toBeCloseTo(2 / 3, 15);
    expect(r.pUpStdError[0]).toBeCloseTo(Math.sqrt((1 / 3) * (2 / 3) / 3), 15);
    // Step 0: 101, 99, 98; realised 99.5 is not up.
    const r0 = pathsToCalibration({ paths: [101, 102, 99, 100, 98, 97], shape: [1, 3, 2], lastPrice: [100], realized: [99.5], step: 0 });
    expect(r0.pUp[0]).toBeCloseTo(1 / 3, 15);
    expect(Array.from(r0.outcome)).toEqual([0]);
    expect(r0.pit[0]).toBeCloseTo(2 / 3, 15);
  });

  it('treats a flat outcome and flat paths alike as not up', () => {
    const r = pathsToCalibration({ paths: [100, 100, 101, 100], shape: [1, 4, 1], lastPrice: [100], realized: [100] });
    expect(r.pUp[0]).toBe(0.25);
    expect(r.outcome[0]).toBe(0);
  });

  it('feeds both diagrams: paths from the true model give calibrated pUp and uniform PIT', () => {
    const rng = new Rng(12);
    const nF = 1500;
    const nP = 200;
    const h = 5;
    const paths = new Float32Array(nF * nP * h);
    const last = new Float64Array(nF);
    const realized = new Float64Array(nF);
    for (let i = 0; i < nF; i++) {
      const s0 = 100;
      const drift = (rng.uniform() - 0.5) * 0.02; // per-forecast drift known to the model: pUp varies
      last[i] = s0;
      for (let j = 0; j < nP; j++) {
        let s = s0;
        for (let k = 0; k < h; k++) {
          s *= Math.exp(drift + 0.01 * rng.normal());
          paths[(i * nP + j) * h + k] = s;
        }
      }
      let s = s0;
      for (let k = 0; k < h; k++) s *= Math.exp(drift + 0.01 * rng.normal());
      realized[i] = s;
    }
    const r = pathsToCalibration({ paths, shape: [nF, nP, h], lastPrice: last, realized, pit: { kind: 'randomized', seed: 1 } });
    expect(ece(reliabilityTable(r.pUp, r.outcome, { bins: 5 }))).toBeLessThan(0.05);
    for (const d of pitHistogram(r.pit, 5).density) expect(Math.abs(d - 1)).toBeLessThan(0.2);
  });

  it('rejects shapes and lengths that do not match, and non-finite prices', () => {
    const base = { paths: [1, 2, 3, 4], shape: [1, 2, 2] as const, lastPrice: [1], realized: [2] };
    expect(() => pathsToCalibration({ ...base, shape: [1, 2, 3] })).toThrow(/paths has 4 values, shape \[1, 2, 3\] needs 6/);
    expect(() => pathsToCalibration({ ...base, step: 2 })).toThrow(/step 2 is beyond the 2 steps/);
    expect(() => pathsToCalibration({ ...base, lastPrice: [1, 2] })).toThrow(DataError);
    expect(() => pathsToCalibration({ ...base, realized: [NaN] })).toThrow(/realized is NaN/);
    expect(() => pathsToCalibration({ ...base, paths: [1, 2, 3, NaN] })).toThrow(/not finite \(row 0/);
    expect(() => pathsToCalibration({ ...base, shape: [0, 2, 2] })).toThrow(ConfigError);
  });
});
