import { describe, expect, it } from 'vitest';
import { streamProgress } from '../../../src/data';

describe('fetch progress', () => {
  it('redraws a bar with pages, bars and ETA on a terminal, then leaves the summary line', () => {
    let text = '';
    let t = 0;
    const p = streamProgress({ write: (s: string) => (text += s) }, { tty: true, now: () => t, width: 10 });
    p.begin('binance BTCUSDT 1m', 1000);
    t = 2000;
    p.update('binance BTCUSDT 1m', { pages: 1, bars: 250, doneMs: 250 });
    expect(text).toBe('\r\x1b[Kbinance BTCUSDT 1m [###.......]  25%  1 pages  250 bars  ETA 6s');
    p.end('binance BTCUSDT 1m', 'binance BTCUSDT 1m: 4 pages');
    expect(text.endsWith('\r\x1b[Kbinance BTCUSDT 1m: 4 pages\n')).toBe(true);
  });

  it('writes one line per series and nothing else when not a terminal', () => {
    let text = '';
    const p = streamProgress({ write: (s: string) => (text += s), isTTY: false });
    p.begin('a', 10);
    p.update('a', { pages: 1, bars: 5, doneMs: 5 });
    p.end('a', 'a: done');
    p.begin('b', 10);
    p.end('b', 'b: done');
    expect(text).toBe('a: done\nb: done\n');
  });
});
