import pl from 'nodejs-polars';
import { describe, expect, it } from 'vitest';
import { formatCell, shortDtype, tableHtml, tablePayload } from '../../src/notebook/api/frame-table';

describe('frame tables', () => {
  it('names dtypes the way polars prints them', () => {
    const df = pl.DataFrame({ f: [1.5], i: pl.Series('i', [1], pl.Int64), s: ['x'], b: [true], t: [new Date(0)] });
    expect(df.dtypes.map(shortDtype)).toEqual(['f64', 'i64', 'str', 'bool', 'datetime[ms]']);
  });

  it('keeps dates as ISO strings and bigints as text in the payload', () => {
    const df = pl.DataFrame({ t: [new Date(Date.UTC(2024, 2, 1, 9, 30))], u: pl.Series('u', [2n ** 60n], pl.UInt64) });
    expect(tablePayload(df).head).toEqual([['2024-03-01T09:30:00.000Z', '1152921504606846976']]);
  });

  it('formats cells: 6 significant digits, compact datetimes, null', () => {
    expect(formatCell(0.123456789)).toBe('0.123457');
    expect(formatCell(100.0000001)).toBe('100');
    expect(formatCell(42)).toBe('42');
    expect(formatCell(Number.NaN)).toBe('NaN');
    expect(formatCell('2024-03-01T09:30:00.000Z')).toBe('2024-03-01 09:30:00');
    expect(formatCell(null)).toBe('null');
  });

  it('escapes column names and values and marks the rows left out', () => {
    const html = tableHtml({
      columns: [{ name: '<img src=x onerror=alert(1)>', dtype: 'str' }], height: 5, head: [['<script>']], tail: [['&amp;']],
    });
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('<td>&amp;amp;</td>');
    expect(html).toContain('&hellip; 3 more rows &hellip;');
    expect(html).toContain('<caption>shape: (5, 1)</caption>');
  });
});
