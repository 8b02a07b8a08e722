import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { LOG_LOSS_CLIP, logLoss, logLossClippedCount } from '../../src/calibration/logloss';
import { close, sklearn } from './reference';

describe('logLoss', () => {
  it('is the mean negative log-likelihood in nats, by hand', () => {
    expect(logLoss([0.8, 0.4], [1, 0])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6)) / 2, 15);
    expect(logLoss([0.5], [1])).toBeCloseTo(Math.LN2, 15);
  });

  it('clips confident misses to [clip, 1 - clip] (default 1e-15, 34.5 nats)', () => {
    expect(LOG_LOSS_CLIP).toBe(1e-15);
    expect(logLoss([0], [1])).toBeCloseTo(-Math.log(1e-15), 12);
    expect(logLoss([1], [0])).toBeCloseTo(-Math.log1p(-(1 - 1e-15)), 6);
    expect(logLoss([0], [1], { clip: 1e-3 })).toBeCloseTo(-Math.log(1e-3), 12);
    expect(logLoss([0, 1], [0, 1])).toBeLessThan(1e-14);
    expect(logLossClippedCount([0, 0.5, 1, 1e-16])).toBe(3);
  });

  it('matches scikit-learn log_loss with eps = 1e-15, including p = 0 and 1', () => {
    const s = sklearn.scores;
    expect(close(logLoss(s.p, s.y), s.logLossClip1e15, 1e-13)).toBe(true);
  });

  it('rejects a clip outside [0, 0.5)', () => {
    expect(() => logLoss([0.5], [1], { clip: 0.5 })).toThrow(ConfigError);
    expect(() => logLoss([0.5], [1], { clip: -1 })).toThrow(/clip must be in \[0, 0.5\)/);
  });
});
