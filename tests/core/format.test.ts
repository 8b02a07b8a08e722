import { describe, expect, it } from 'vitest';
import { basisPoints, percentText, roundSignificant, roundTo } from '../../src/core/format';

describe('rounding for tables and records', () => {
  it('roundTo rounds to decimals and gives null without a finite number', () => {
    expect(roundTo(3.14159, 2)).toBe(3.14);
    expect(roundTo(-2.5, 0)).toBe(-3); // toFixed rounds half away from zero
    expect(roundTo(1234.5678, 0)).toBe(1235);
    expect(roundTo(0.1 + 0.2, 6)).toBe(0.3);
    expect(roundTo(NaN, 2)).toBeNull();
    expect(roundTo(Infinity, 2)).toBeNull();
    expect(roundTo(-Infinity, 2)).toBeNull();
    expect(() => roundTo(1, 101)).toThrow(RangeError);
  });

  it('roundSignificant keeps significant digits', () => {
    expect(roundSignificant(0.000123456, 4)).toBe(0.0001235);
    expect(roundSignificant(98765.4321, 3)).toBe(98800);
    expect(roundSignificant(0.25024999, 4)).toBe(0.2502);
    expect(roundSignificant(NaN, 4)).toBeNull();
    expect(() => roundSignificant(1, 0)).toThrow(RangeError);
  });

  it('basisPoints scales a fraction by 10,000 and keeps NaN', () => {
    expect(basisPoints(0.012345)).toBe(123.45);
    expect(basisPoints(-0.00009126)).toBe(-0.91);
    expect(basisPoints(0.0012345, 0)).toBe(12);
    expect(basisPoints(NaN)).toBeNaN();
  });

  it('percentText writes a percentage with a sign', () => {
    expect(percentText(12.3456)).toBe('12.35%');
    expect(percentText(-3.7, 1)).toBe('-3.7%');
    expect(percentText(NaN)).toBe('NaN%');
  });
});
