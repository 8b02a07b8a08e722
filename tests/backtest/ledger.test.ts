import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/backtest/ledger';

const costs = (fee = 0, slippage = 0, fixedFee = 0) => ({ fee: Float64Array.of(fee), fixedFee: Float64Array.of(fixedFee),
  slippage: Float64Array.of(slippage) });
const ts = Float64Array.from({ length: 10 }, (_, i) => i * 1000);

describe('ledger: fills, costs and round-trip trades', () => {
  it('splits a sign flip into a closed long and a new short, sharing the fee by quantity', () => {
    const l = new Ledger(10_000, ['P'], costs(0.001), ts, Float64Array.from({ length: 10 }, (_, i) => i / 10));
    l.fill(0, 10, 100, 1, 0, 0); // buy 10 @ 100, fee 1
    l.fill(0, -15, 110, 3, 0, 2); // sell 15 @ 110, fee 1.65: 10 close the long, 5 open a short
    expect(l.qty[0]).toBe(-5);
    expect(l.trades).toHaveLength(1);
    const long = l.trades[0];
    expect(long).toMatchObject({ side: 'long', decisionBar: 0, entryBar: 1, exitBar: 3, entryPrice: 100, exitPrice: 110, maxQuantity: 10, exitReason: 'signal', score: 0 });
    expect(long.fees).toBeCloseTo(1 + 1.65 * (10 / 15), 12);
    expect(long.pnl).toBeCloseTo(10 * 10 - 1 - 1.1, 12);
    expect(long.returnOnNotional).toBeCloseTo(long.pnl / 1000, 12);
    expect(long.returnOnEquity).toBeCloseTo(long.pnl / 10_000, 12);
    l.fill(0, 5, 105, 5, 1, 4); // buy back the short @ 105, fee 0.525
    const short = l.trades[1];
    expect(short).toMatchObject({ side: 'short', decisionBar: 2, entryBar: 3, exitBar: 5, entryPrice: 110, exitPrice: 105, exitReason: 'horizon', score: 0.2 });
    expect(short.pnl).toBeCloseTo(5 * 5 - 1.65 * (5 / 15) - 0.525, 12);
    // Cash: every flow, and nothing else.
    expect(l.cash).toBeCloseTo(10_000 - 1000 - 1 + 1650 - 1.65 - 525 - 0.525, 9);
    expect(l.cash - 10_000).toBeCloseTo(long.pnl + short.pnl, 9);
    expect(l.losingStreak).toBe(0);
  });

  it('moves fill prices against the order by the slippage and charges the fixed fee per order', () => {
    const l = new Ledger(10_000, ['A'], costs(0, 0.01, 2), ts);
    l.fill(0, 10, 100, 1, 0, 0);
    l.fill(0, -10, 100, 2, 0, 1);
    const t = l.trades[0];
    expect(t.entryPrice).toBeCloseTo(101, 12);
    expect(t.exitPrice).toBeCloseTo(99, 12);
    expect(t.slippage).toBeCloseTo(20, 12);
    expect(t.pnl).toBeCloseTo(-20 - 4, 12);
    expect(l.fills).toBe(2);
    expect(l.losingStreak).toBe(1);
  });

  it('keeps funding in the open trade and reports still-open positions marked at the last price', () => {
    const l = new Ledger(10_000, ['P'], costs(), ts);
    l.fill(0, 10, 100, 1, 0, 0);
    l.payFunding(0, 0.5);
    l.fill(0, 5, 120, 2, 0, 1); // add to the long: average entry 106.67, max notional at cost 1600
    l.markOpenTrades(9, Float64Array.of(130));
    const t = l.trades[0];
    expect(t.exitReason).toBe('end');
    expect(t.funding).toBe(0.5);
    expect(t.entryPrice).toBeCloseTo(1600 / 15, 12);
    expect(t.pnl).toBeCloseTo(15 * 130 - 1600 - 0.5, 9);
    expect(t.returnOnNotional).toBeCloseTo(t.pnl / 1600, 12);
  });
});
