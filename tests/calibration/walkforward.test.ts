import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { Rng } from '../../src/core/random';
import { brierScore } from '../../src/calibration/brier';
import { applyCalibrator, fitCalibrator, logit } from '../../src/calibration/calibrator';
import { walkForwardRecalibration } from '../../src/calibration/walkforward';

/** Overconfident forecasts: the truth is sigmoid(0.5 * logit(p)). */
function overconfident(n: number, seed: number): { p: Float64Array; y: Float64Array } {
  const rng = new Rng(seed);
  const p = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    p[i] = 0.02 + 0.96 * rng.uniform();
    const truth = 1 / (1 + Math.exp(-0.5 * Math.log(p[i] / (1 - p[i]))));
    y[i] = rng.bernoulli(truth) ? 1 : 0;
  }
  return { p, y };
}

describe('fitCalibrator / applyCalibrator', () => {
  it('isotonic maps probabilities through the fitted step function', () => {
    const cal = fitCalibrator({ kind: 'isotonic' }, [0.2, 0.4, 0.6, 0.8], [0, 1, 0, 1]);
    expect(Array.from(applyCalibrator(cal, [0.1, 0.5, 0.9]))).toEqual([0, 0.5, 1]);
  });

  it('Platt on logit(p) can express the identity and recovers a temperature', () => {
    const { p, y } = overconfident(20_000, 1);
    const cal = fitCalibrator({ kind: 'platt' }, p, y);
    expect(cal.kind === 'platt' && cal.input).toBe('logit');
    if (cal.kind !== 'platt') throw new Error('unreachable');
    expect(cal.model.a).toBeCloseTo(-0.5, 1);
    expect(Math.abs(cal.model.b)).toBeLessThan(0.05);
    const identity = { ...cal, model: { ...cal.model, a: -1, b: 0 } };
    expect(applyCalibrator(identity, [0.3])[0]).toBeCloseTo(0.3, 12);
  });

  it('Platt on the probability itself is available', () => {
    const cal = fitCalibrator({ kind: 'platt', input: 'probability' }, [0.1, 0.2, 0.8, 0.9], [0, 1, 0, 1]);
    expect(cal.kind === 'platt' && cal.input).toBe('probability');
  });

  it('logit clips 0 and 1 to finite values', () => {
    const l = logit([0, 0.5, 1]);
    expect(l[1]).toBe(0);
    expect(l[0]).toBeCloseTo(Math.log(1e-15), 6);
    expect(l[2]).toBeCloseTo(-Math.log(1e-15), 1);
  });

  it('rejects an unknown method', () => {
    expect(() => fitCalibrator({ kind: 'beta' } as never, [0.5], [1])).toThrow(ConfigError);
  });
});

describe('walkForwardRecalibration', () => {
  it('improves overconfident forecasts out of sample and scores only out-of-sample rows', () => {
    const { p, y } = overconfident(4000, 2);
    for (const kind of ['isotonic', 'platt'] as const) {
      const wf = walkForwardRecalibration(p, y, { calibrator: { kind }, minTrain: 1000, block: 500 });
      expect(wf.oosStart).toBe(1000);
      expect(wf.blocks.map((b) => [b.trainStart, b.trainEnd, b.start, b.end])).toEqual([
        [0, 1000, 1000, 1500],
        [0, 1500, 1500, 2000],
        [0, 2000, 2000, 2500],
        [0, 2500, 2500, 3000],
        [0, 3000, 3000, 3500],
        [0, 3500, 3500, 4000],
      ]);
      expect(wf.before.n).toBe(3000);
      expect(wf.before.brier).toBeCloseTo(brierScore(p.subarray(1000), y.subarray(1000)), 15);
      expect(wf.after.brier).toBeCloseTo(brierScore(wf.calibrated.subarray(1000), y.subarray(1000)), 15);
      expect(wf.after.brier).toBeLessThan(wf.before.brier);
      expect(wf.after.ece).toBeLessThan(wf.before.ece / 2);
      expect(Number.isNaN(wf.calibrated[999])).toBe(true);
      expect(Number.isNaN(wf.calibrated[1000])).toBe(false);
    }
  });

  it('never uses outcomes at or after the block (nor in the gap) to recalibrate it', () => {
    const { p, y } = overconfident(600, 3);
    const opts = { calibrator: { kind: 'isotonic' as const }, minTrain: 200, block: 100, gap: 20 };
    const wf = walkForwardRecalibration(p, y, opts);
    expect(wf.blocks[0]).toMatchObject({ trainStart: 0, trainEnd: 200, start: 220, end: 320 });
    // Flip every outcome from row 200 on (gap, block and later): the first block's recalibrated values cannot change.
    const y2 = Float64Array.from(y, (v, i) => (i >= 200 ? 1 - v : v));
    const wf2 = walkForwardRecalibration(p, y2, opts);
    expect(Array.from(wf2.calibrated.subarray(220, 320))).toEqual(Array.from(wf.calibrated.subarray(220, 320)));
    // Flipping a training outcome does change it.
    const y3 = Float64Array.from(y, (v, i) => (i < 200 ? 1 - v : v));
    expect(Array.from(walkForwardRecalibration(p, y3, opts).calibrated.subarray(220, 320))).not.toEqual(Array.from(wf.calibrated.subarray(220, 320)));
  });

  it('rolling windows train on the last rows only', () => {
    const { p, y } = overconfident(1000, 4);
    const wf = walkForwardRecalibration(p, y, { calibrator: { kind: 'platt' }, minTrain: 300, block: 250, window: { kind: 'rolling', size: 200 } });
    expect(wf.blocks.map((b) => [b.trainStart, b.trainEnd, b.start, b.end])).toEqual([
      [100, 300, 300, 550],
      [350, 550, 550, 800],
      [600, 800, 800, 1000],
    ]);
    expect(wf.blocks[2].brierBefore).toBeCloseTo(brierScore(p.subarray(800), y.subarray(800)), 15);
  });

  it('rejects settings that leave nothing out of sample or are not counts', () => {
    const { p, y } = overconfident(100, 5);
    expect(() => walkForwardRecalibration(p, y, { calibrator: { kind: 'isotonic' }, minTrain: 90, block: 5, gap: 10 })).toThrow(/no out-of-sample rows/);
    expect(() => walkForwardRecalibration(p, y, { calibrator: { kind: 'isotonic' }, minTrain: 0, block: 5 })).toThrow(ConfigError);
    expect(() => walkForwardRecalibration(p, y, { calibrator: { kind: 'isotonic' }, minTrain: 10, block: 2.5 })).toThrow(/block must be an integer/);
    expect(() => walkForwardRecalibration(p, y, { calibrator: { kind: 'isotonic' }, minTrain: 10, block: 5, window: { kind: 'rolling', size: 0 } })).toThrow(ConfigError);
  });
});
