import { describe, expect, it } from 'vitest';
import { candlestickFigure } from '../../src/plot/data';

describe('candlestickFigure', () => {
  const a = { symbol: 'X', ts: Float64Array.from([0, 60_000]), open: Float64Array.from([10, 11]), high: Float64Array.from([12, 12]), low: Float64Array.from([9, 10]), close: Float64Array.from([11, 10.5]), volume: Float64Array.from([100, 50]) };
  it('candles over volume, coloured by direction, with an optional VWAP line', () => {
    const f = candlestickFigure(a, { vwap: Float64Array.from([Number.NaN, 10.8]) });
    expect(f.data.map((t) => t.type)).toEqual(['candlestick', 'bar', 'scatter']);
    expect(f.data[0]).toMatchObject({ x: ['1970-01-01T00:00:00.000Z', '1970-01-01T00:01:00.000Z'], open: [10, 11], close: [11, 10.5] });
    expect((f.data[1].marker as { color: string[] }).color).toEqual(['#26a69a', '#ef5350']);
    expect(f.data[2].y).toEqual([null, 10.8]);
    expect(JSON.parse(JSON.stringify(f))).toEqual(f); // plain JSON
  });
});
