import { describe, expect, it } from 'vitest';
import { DataError } from '../../../src/core/errors';
import { fetchBarRange } from '../../../src/data/fetch';
import type { Connector } from '../../../src/data/fetch/connector';
import type { Page } from '../../../src/data/fetch/paging';

const T0 = Date.UTC(2026, 0, 5, 10, 0);
const MIN = 60_000;

/** A connector that answers every bars request with the given pages. */
function connectorOf(pages: Page[]): Connector {
  return {
    source: 'binance',
    http: undefined as never,
    sessions: false,
    symbolsPerRequest: 1,
    async *bars() {
      for (const p of pages) yield p;
    },
  };
}

function page(ts: number[], close: number[]): Page {
  const cols = { open: close, high: close.map((c) => c + 1), low: close.map((c) => c - 1), close, volume: close.map(() => 5) };
  return { symbol: 'BTCUSDT', covered: [ts[0], ts[ts.length - 1] + MIN], rows: { ts, cols }, outside: 0, stale: 0, url: 'http://127.0.0.1/klines' };
}

describe('fetchBarRange', () => {
  it('joins the pages in time order and counts the repeated rows it drops', async () => {
    const pages = [page([T0, T0 + MIN, T0 + MIN], [10, 11, 11]), page([T0 + 2 * MIN], [12])];
    const r = await fetchBarRange(connectorOf(pages), 'BTCUSDT', '1m', [T0, T0 + 3 * MIN]);
    expect(Array.from(r.ts)).toEqual([T0, T0 + MIN, T0 + 2 * MIN]);
    expect(Array.from(r.cols.close)).toEqual([10, 11, 12]);
    expect(Array.from(r.cols.high)).toEqual([11, 12, 13]);
    expect(r.duplicates).toBe(1);
  });

  it('rejects a page that holds one time twice with different values, naming the column', async () => {
    const bad = connectorOf([page([T0, T0], [10, 10.5])]);
    const err = await fetchBarRange(bad, 'BTCUSDT', '1m', [T0, T0 + MIN]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toMatch(/twice with different open/);
  });
});
