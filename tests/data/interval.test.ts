import { describe, expect, it } from 'vitest';
import { firstUnorderedRow, formatDuration, inferIntervalMs, intervalFor, parseDuration } from '../../src/data/interval';
import { barIntervals } from '../../src/data/validate';
import { loadBars } from '../../src/data/load';
import { tzOffsetMs, wallToUtcMs, wallTimeMultiplicity } from '../../src/data/tz';
import { realData } from '../support/paths';

describe('durations', () => {
  it('parse and format', () => {
    expect([parseDuration('1m'), parseDuration('30m'), parseDuration('4h'), parseDuration('1d'), parseDuration('500ms')]).toEqual([60_000, 1_800_000, 14_400_000, 86_400_000, 500]);
    expect([formatDuration(300_000), formatDuration(14_400_000), formatDuration(90_000), formatDuration(1500)]).toEqual(['5m', '4h', '90s', '1500ms']);
    expect(() => parseDuration('0m')).toThrow(/positive integer/);
    expect(() => parseDuration('5 min')).toThrow(/positive integer/);
  });

  it('the first row out of order: backwards, repeated or NaN', () => {
    expect(firstUnorderedRow(Float64Array.of(0, 1, 2))).toBe(-1);
    expect(firstUnorderedRow(Float64Array.of(0, 2, 1, 0))).toBe(2);
    expect(firstUnorderedRow(Float64Array.of(0, 1, 1))).toBe(2);
    expect(firstUnorderedRow(Float64Array.of(0, Number.NaN, 5))).toBe(1);
    expect(firstUnorderedRow(new Float64Array(0))).toBe(-1);
  });

  it('the interval is the most common step, not the smallest or the mean', () => {
    expect(inferIntervalMs(Float64Array.from([0, 60_000, 120_000, 600_000, 660_000]))).toBe(60_000);
    expect(inferIntervalMs(Float64Array.from([0]))).toBeUndefined();
    expect(barIntervals(loadBars(realData('crypto-5m')))).toMatchObject({ ETH_BTC: 300_000, ADA_BTC: 300_000 });
  });

  it('a given interval wins over the inferred one; a record counts only its own keys', () => {
    const ts = Float64Array.from([0, 60_000, 120_000]);
    expect(intervalFor(undefined, 'A', ts)).toBe(60_000);
    expect(intervalFor(300_000, 'A', ts)).toBe(300_000);
    expect(intervalFor({ A: 300_000 }, 'A', ts)).toBe(300_000);
    expect(intervalFor({ '': 120_000 }, undefined, ts)).toBe(120_000);
    expect(intervalFor({ B: 300_000 }, 'A', ts)).toBe(60_000);
    expect(intervalFor({}, 'constructor', ts)).toBe(60_000);
    expect(intervalFor({ A: 300_000 }, 'A', Float64Array.of(0))).toBe(300_000);
    expect(intervalFor({}, 'A', Float64Array.of(0))).toBeUndefined();
  });
});

describe('time zones', () => {
  it('offsets follow DST', () => {
    expect(tzOffsetMs('America/New_York', Date.UTC(2024, 0, 2))).toBe(-5 * 3_600_000);
    expect(tzOffsetMs('America/New_York', Date.UTC(2024, 6, 2))).toBe(-4 * 3_600_000);
    expect(tzOffsetMs('Asia/Shanghai', Date.UTC(2024, 6, 2))).toBe(8 * 3_600_000);
  });
  it('wall time to UTC, with skipped and repeated wall times', () => {
    expect(wallToUtcMs('America/New_York', Date.UTC(2024, 6, 1, 9, 30))).toBe(Date.UTC(2024, 6, 1, 13, 30));
    expect(wallTimeMultiplicity('America/New_York', Date.UTC(2024, 2, 10, 2, 30))).toBe(0);
    expect(wallTimeMultiplicity('America/New_York', Date.UTC(2024, 10, 3, 1, 30))).toBe(2);
    expect(Number.isNaN(wallToUtcMs('America/New_York', Date.UTC(2024, 10, 3, 1, 30)))).toBe(true);
    expect(wallToUtcMs('America/New_York', Date.UTC(2024, 10, 3, 1, 30), 'latest')).toBe(Date.UTC(2024, 10, 3, 6, 30));
  });
});
