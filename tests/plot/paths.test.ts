import { describe, expect, it } from 'vitest';
import { fanChartFigure, type FanChartInput } from '../../src/plot/paths';

const T0 = Date.parse('2024-08-29T03:20:00Z');
const input: FanChartInput = {
  title: 'X outlook',
  recent: { ts: Float64Array.of(T0, T0 + 300_000), open: Float64Array.of(10, 10.1), high: Float64Array.of(10.2, 10.3), low: Float64Array.of(9.9, 10),
    close: Float64Array.of(10.1, 10.2), vwap: Float64Array.of(NaN, 10.1) },
  lastOpenMs: T0 + 300_000,
  entryClose: 10.2,
  stepTimes: Float64Array.of(Date.parse('2024-08-29T05:00:00Z'), Date.parse('2024-08-29T05:05:00Z')),
  paths: { close: Float64Array.of(10.3, 10.4, 10.1, 10.0, 10.2, 10.25), n: 3, horizon: 2 },
  bands: { levels: [0.1, 0.5, 0.9], values: [Float64Array.of(10.1, 10.0), Float64Array.of(10.2, 10.25), Float64Array.of(10.3, 10.4)] },
  levels: [{ name: 'vwap', price: 10.1 }, { name: 'R1', price: 10.5 }],
  maxPaths: 2,
  breaks: [[Date.parse('2024-08-29T03:30:00Z'), Date.parse('2024-08-29T05:00:00Z')]],
};

describe('fanChartFigure', () => {
  const f = fanChartFigure(input);

  it('candles, paths from the current close, the outer band filled, the median, VWAP', () => {
    expect(f.data.map((t) => t.name)).toEqual(['bars', 'paths (2 of 3)', 'p10', 'p10-p90', 'p50', 'VWAP (session)']);
    const paths = f.data[1];
    // two paths drawn, each starting at the last bar (x) and the entry close (y), separated by null
    expect(paths.y).toEqual([10.2, 10.3, 10.4, null, 10.2, 10.1, 10.0, null]);
    expect((paths.x as (string | null)[]).slice(0, 4)).toEqual(['2024-08-29T03:25:00.000Z', '2024-08-29T05:00:00.000Z', '2024-08-29T05:05:00.000Z', null]);
    expect(f.data[3]).toMatchObject({ fill: 'tonexty', y: [10.2, 10.3, 10.4] });
    expect(f.data[4]).toMatchObject({ y: [10.2, 10.2, 10.25], line: { dash: 'solid' } });
    expect(f.data[5].y).toEqual([null, 10.1]);
  });

  it('current price and levels as lines, session breaks hidden, plain JSON', () => {
    const layout = f.layout as { shapes: { y0: number; x0: string }[]; annotations: { text: string }[]; xaxis: { rangebreaks: unknown[] } };
    expect(layout.shapes.map((s) => s.y0)).toEqual([10.2, 0, 10.1, 10.5]);
    expect(layout.annotations.map((a) => a.text)).toEqual(['now 10.2', 'vwap', 'R1']);
    expect(layout.xaxis.rangebreaks).toEqual([{ bounds: ['2024-08-29T03:30:00.000Z', '2024-08-29T05:00:00.000Z'] }]);
    expect(JSON.parse(JSON.stringify(f))).toEqual(f);
  });
});
