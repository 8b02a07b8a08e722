// Pins the outputs of the data pipeline (validate -> fill gaps -> resample -> session VWAP) on
// recorded files, bit for bit: the SHA-256 of every output column's bytes. The expected digests
// were computed with main's code at 8df8f18, before the data pipeline's speed work, so any change
// of a value, a row, a column type or the row order fails here. Row counts, fill counts and a few
// values are asserted as well, so a failure says what moved.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import pl from 'nodejs-polars';
import { arraysToBars, type Bars } from '../../src/data/bars';
import { fillGaps } from '../../src/data/gaps';
import { loadBars } from '../../src/data/load';
import { resample } from '../../src/data/resample';
import { validateBars } from '../../src/data/validate';
import { withSessionVwap } from '../../src/data/features';
import { simulateMarket } from '../../src/data/synthetic';
import type { SessionLike } from '../../src/data/sessions';
import { realData } from '../support/paths';

/** SHA-256 over each column's name, dtype and values (f64/i32 as bytes, ts as int64 ms, strings and flags as text). */
function digest(frame: Bars): string {
  const h = createHash('sha256');
  for (const name of frame.columns) {
    const s = frame.getColumn(name);
    h.update(`${name}:${String(s.dtype)}:${s.length}\n`);
    if (s.dtype.equals(pl.Datetime('ms', 'UTC'))) h.update(Buffer.from((s.cast(pl.Int64).toTypedArray() as BigInt64Array).buffer));
    else if (s.dtype.equals(pl.Float64) || s.dtype.equals(pl.Int32)) {
      const a = s.toTypedArray() as Float64Array | Int32Array;
      h.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    } else h.update((s.toArray() as unknown[]).map(String).join('\n'));
  }
  return h.digest('hex');
}

interface Pinned {
  rows: number;
  intervalMs: Record<string, number>;
  filled: number;
  filledRows: number;
  resampled: number;
  valid: string;
  gaps: string;
  bucketed: string;
  vwap: string;
}

function pipeline(bars: Bars, session: SessionLike, every: string): Pinned {
  const v = validateBars(bars);
  const f = fillGaps(v.bars, session);
  const r = resample(f.bars, every, { session });
  const w = withSessionVwap(f.bars, session);
  return {
    rows: v.bars.height,
    intervalMs: v.intervalMs,
    filled: f.filled,
    filledRows: f.bars.height,
    resampled: r.bars.height,
    valid: digest(v.bars).slice(0, 16),
    gaps: digest(f.bars).slice(0, 16),
    bucketed: digest(r.bars).slice(0, 16),
    vwap: digest(w).slice(0, 16),
  };
}

describe('data pipeline outputs are pinned bit for bit', () => {
  it('crypto-5m folder (8 symbols, 24x7, real gaps) -> 1h', () => {
    const out = pipeline(loadBars(realData('crypto-5m')), '24x7', '1h');
    expect(out).toEqual(PINNED.crypto5m);
  });

  it('a-share CSV (cn-a lunch break, end-stamped) -> 30m', () => {
    const bars = loadBars(realData('a-share-5m.csv'), { timeZone: 'Asia/Shanghai', stampedAt: 'end', barMs: 300_000 });
    expect(pipeline(bars, 'cn-a', '30m')).toEqual(PINNED.ashare);
  });

  it('crypto-1m UNITTEST_BTC (flat bars) -> 4h', () => {
    expect(pipeline(loadBars(realData('crypto-1m', 'UNITTEST_BTC-1m.feather')), '24x7', '4h')).toEqual(PINNED.crypto1m);
  });

  it('seeded US RTH market of 3 symbols with missing bars (the bench layout) -> 30m', () => {
    const start = Date.UTC(2024, 2, 4);
    const m = simulateMarket({
      seed: 7,
      session: 'us-rth',
      barMs: 60_000,
      start,
      end: start + 21 * 86_400_000,
      symbols: [0, 1, 2].map((i) => ({ symbol: `S${i}`, price: 20 + 10 * i, annualVol: 0.2 + 0.02 * i, volume: 5000 })),
      missingBarProbability: 0.01,
    });
    expect(pipeline(arraysToBars(m.series), 'us-rth', '30m')).toEqual(PINNED.rth);
  });
});

// Computed with main's code at 8df8f18 (see the top of the file).
const PINNED: Record<'crypto5m' | 'ashare' | 'crypto1m' | 'rth', Pinned> = {
  crypto5m: { rows: 46033, intervalMs: { ADA_BTC: 300000, ETC_BTC: 300000, ETH_BTC: 300000, LTC_BTC: 300000, NXT_BTC: 300000, TRX_BTC: 300000, UNITTEST_BTC: 300000, XLM_BTC: 300000 }, filled: 46, filledRows: 46079, resampled: 3848, valid: 'ff7d8243a4fa5c25', gaps: '03e4db75ce963c4f', bucketed: 'b4e9885a7b5ebdbe', vwap: '0f51e5f2088b2f30' },
  ashare: { rows: 2500, intervalMs: { '': 300000 }, filled: 0, filledRows: 2500, resampled: 417, valid: '8d62a2bf85da7009', gaps: '8b04a3dd63cd5850', bucketed: '02ba279f14eb5eb2', vwap: '683299782e4e7911' },
  crypto1m: { rows: 13681, intervalMs: { '': 60000 }, filled: 717, filledRows: 14398, resampled: 61, valid: 'f5da24384f0cee60', gaps: '24349178c3adb96a', bucketed: '63abd52fce754904', vwap: '42aa98c0a712da77' },
  rth: { rows: 17394, intervalMs: { S0: 60000, S1: 60000, S2: 60000 }, filled: 156, filledRows: 17550, resampled: 585, valid: '2faa3eaa11d7d51e', gaps: '01f4324c7c58399e', bucketed: '362f513fc24d9668', vwap: 'c9213a8ca60d309c' },
};
