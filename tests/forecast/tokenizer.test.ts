import { describe, expect, it } from 'vitest';
import { binCentres, binOf, decodePath, tokenizeCloses } from '../../src/forecast/tokenizer';

const spec = {
  kind: 'scaledLogReturn' as const,
  series: 'close' as const,
  scaling: 'rms' as const,
  scaleFloor: 1e-8,
  binEdges: [-3, -1, 1, 3],
  missingToken: 3,
  vocabSize: 4,
};

describe('return tokenizer', () => {
  it('bins scaled log returns by the edges, clamping to the end bins', () => {
    expect(binOf(-10, spec.binEdges)).toBe(0);
    expect(binOf(-1, spec.binEdges)).toBe(1); // edges are left-closed
    expect(binOf(0.99, spec.binEdges)).toBe(1);
    expect(binOf(1, spec.binEdges)).toBe(2);
    expect(binOf(99, spec.binEdges)).toBe(2);
    const many = Array.from({ length: 256 }, (_, i) => -8 + (16 * i) / 255);
    expect(binOf(0, many)).toBe(127);
    expect(binOf(-7.99, many)).toBe(0);
    expect(binOf(7.99, many)).toBe(254);
  });

  it('scales by the RMS of observed returns and marks missing returns', () => {
    // returns log(e^0.1)=0.1, log(e^-0.3)=-0.3, missing, missing, 0.2 -> rms = sqrt((0.01+0.09+0.04)/3)
    const c0 = 100;
    const closes = new Float64Array([c0, c0 * Math.exp(0.1), c0 * Math.exp(-0.2), NaN, c0, c0 * Math.exp(0.2)]);
    const t = tokenizeCloses(closes, spec);
    const rms = Math.sqrt(0.14 / 3);
    expect(t.scale).toBeCloseTo(rms, 12);
    // z = 0.1/0.216 = 0.46 -> bin 1; -0.3/0.216 = -1.39 -> bin 0; 0.2/0.216 = 0.93 -> bin 1
    expect(Array.from(t.ids)).toEqual([1, 0, 3, 3, 1]);
    expect(t.lastClose).toBeCloseTo(c0 * Math.exp(0.2), 10);
  });

  it('floors the scale of a flat window', () => {
    const t = tokenizeCloses(new Float64Array([5, 5, 5]), spec);
    expect(t.scale).toBe(1e-8);
    expect(Array.from(t.ids)).toEqual([1, 1]);
  });

  it('decodes tokens to compounded prices from the last close', () => {
    const centres = binCentres(spec.binEdges); // [-2, 0, 2]
    expect(Array.from(centres)).toEqual([-2, 0, 2]);
    const out = new Float64Array(4);
    decodePath([2, 1, 0], centres, 0.01, 50, out, 1);
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo(50 * Math.exp(0.02), 12);
    expect(out[2]).toBeCloseTo(50 * Math.exp(0.02), 12);
    expect(out[3]).toBeCloseTo(50, 12);
  });
});
