import { describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/core/errors';
import { forecastStepTimes, sessionBreaks, validateStepTimes } from '../../../src/forecast/paths/stepTimes';

const t = (iso: string) => Date.parse(iso);
const isoList = (x: Float64Array) => Array.from(x, (v) => new Date(v).toISOString().slice(0, 16));

describe('forecastStepTimes', () => {
  it('A-shares: skips the lunch break and the night (5-minute bars)', () => {
    const steps = forecastStepTimes(t('2024-08-29T03:25:00Z'), 30, 300_000, 'cn-a'); // 11:25 Shanghai, Thursday
    const list = isoList(steps);
    expect(list.slice(0, 2)).toEqual(['2024-08-29T05:00', '2024-08-29T05:05']); // 13:00, 13:05
    expect(list[23]).toBe('2024-08-29T06:55'); // 14:55, the last bar of the day
    expect(list.slice(24, 26)).toEqual(['2024-08-30T01:30', '2024-08-30T01:35']); // Friday 09:30
    expect(list[29]).toBe('2024-08-30T01:55');
    expect(() => validateStepTimes(steps, t('2024-08-29T03:25:00Z'), 30)).not.toThrow();
  });

  it('US regular hours: skips the night, the weekend and NYSE holidays', () => {
    expect(isoList(forecastStepTimes(t('2024-07-03T19:59:00Z'), 2, 60_000, 'us-rth'))).toEqual(['2024-07-05T13:30', '2024-07-05T13:31']); // July 4 closed
    expect(isoList(forecastStepTimes(t('2024-06-14T19:59:00Z'), 1, 60_000, 'us-rth'))).toEqual(['2024-06-17T13:30']); // Friday -> Monday
    expect(isoList(forecastStepTimes(t('2024-06-14T19:58:00Z'), 3, 60_000, 'us-rth'))).toEqual(['2024-06-14T19:59', '2024-06-17T13:30', '2024-06-17T13:31']);
    expect(isoList(forecastStepTimes(t('2024-06-14T19:58:00Z'), 1, 60_000, 'us-ext'))).toEqual(['2024-06-14T19:59']);
  });

  it('24x7: the next minutes, through midnight', () => {
    expect(isoList(forecastStepTimes(t('2017-11-14T23:59:00Z'), 2, 60_000, '24x7'))).toEqual(['2017-11-15T00:00', '2017-11-15T00:01']);
  });

  it('validation: count, order, after the last bar', () => {
    expect(() => validateStepTimes(Float64Array.of(2, 1), 0, 2)).toThrow(/step 2 .* is not after step 1/);
    expect(() => validateStepTimes(Float64Array.of(5), 5, 1)).toThrow(/step 1 .* is not after the last bar/);
    expect(() => validateStepTimes(Float64Array.of(1, 2), 0, 3)).toThrow(ModelError);
    expect(() => forecastStepTimes(0, 0, 60_000, '24x7')).toThrow(/horizon/);
  });
});

describe('sessionBreaks', () => {
  it('marks lunch and night between bars of different windows, not missing bars', () => {
    const ts = Float64Array.of(t('2024-08-29T03:20:00Z'), t('2024-08-29T03:25:00Z'), t('2024-08-29T05:00:00Z'), t('2024-08-29T05:15:00Z'), t('2024-08-30T01:30:00Z'));
    // 05:00 -> 05:15 is two missing bars inside one window: not a break. From the 05:15 bar on, hidden up to the next open.
    expect(sessionBreaks(ts, 300_000, 'cn-a').map(([a, b]) => [new Date(a).toISOString().slice(5, 16), new Date(b).toISOString().slice(5, 16)])).toEqual([
      ['08-29T03:30', '08-29T05:00'],
      ['08-29T05:20', '08-30T01:30'],
    ]);
    expect(sessionBreaks(Float64Array.of(0, 60_000, 600_000), 60_000, '24x7')).toEqual([]);
  });
});
