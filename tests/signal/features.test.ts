import { describe, expect, it } from 'vitest';
import { buildSignalFeatures, type SignalFeatureOptions } from '../../src/signal/features';
import { classifyRegimes } from '../../src/backtest/regime';
import { sessionVwapArrays } from '../../src/data/features';
import type { BarArrays } from '../../src/data/bars';
import { ConfigError, DataError } from '../../src/core/errors';
import { Rng } from '../../src/core/random';
import { thrownBy } from '../support/errors';

const BAR_MS = 15 * 60_000;

/** Seeded 15-minute bars over several UTC days, so that the session VWAP resets. */
function bars(n: number, seed: number): BarArrays {
  const rng = new Rng(seed);
  const ts = new Float64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  let p = 100;
  for (let t = 0; t < n; t++) {
    ts[t] = Date.UTC(2026, 0, 1) + t * BAR_MS;
    open[t] = p;
    p *= Math.exp(0.003 * rng.normal());
    close[t] = p;
    high[t] = Math.max(open[t]!, p) * (1 + 0.001 * rng.uniform());
    low[t] = Math.min(open[t]!, p) * (1 - 0.001 * rng.uniform());
    volume[t] = 10 + 5 * rng.uniform();
  }
  return { ts, open, high, low, close, volume };
}

function inputs(n: number, seed: number): { b: BarArrays; opts: SignalFeatureOptions } {
  const rng = new Rng(seed + 1);
  const b = bars(n, seed);
  const arr = (f: () => number): Float64Array => Float64Array.from({ length: n }, f);
  const q50 = Float64Array.from(b.close, (c) => c * (1 + 0.001 * rng.normal()));
  return {
    b,
    opts: {
      lags: [1, 4, 16],
      window: 16,
      funding: arr(() => 1e-4 * rng.normal()),
      regimeEvery: 4,
      regime: { trendWindow: 8, volWindow: 8, warmupBars: 10 },
      forecast: {
        pUp: arr(() => rng.uniform()),
        expectedReturn: arr(() => 0.01 * rng.normal()),
        q10: q50.map((v) => v * 0.99),
        q50,
        q90: q50.map((v) => v * 1.012),
      },
    },
  };
}

describe('buildSignalFeatures', () => {
  const n = 600;
  const { b, opts } = inputs(n, 3);
  const fm = buildSignalFeatures(b, opts);
  const F = fm.names.length;
  const at = (t: number, name: string): number => fm.x[t * F + fm.names.indexOf(name)]!;

  it('names its columns in a fixed order', () => {
    expect(fm.names).toEqual([
      'ret_1', 'ret_4', 'ret_16', 'rvol', 'volume_rel', 'range', 'range_rel', 'vwap_dist', 'vwap_z',
      'tod_sin', 'tod_cos', 'funding', 'regime', 'f_pup', 'f_mu', 'f_band', 'f_skew',
    ]);
    expect(fm.x.length).toBe(n * F);
  });

  it('computes each feature from its definition', () => {
    const t = 300;
    expect(at(t, 'ret_4')).toBeCloseTo(Math.log(b.close[t]! / b.close[t - 4]!), 12);
    expect(Number.isNaN(at(3, 'ret_4'))).toBe(true);
    let s = 0;
    for (let u = t - 15; u <= t; u++) s += Math.log(b.close[u]! / b.close[u - 1]!) ** 2;
    expect(at(t, 'rvol')).toBeCloseTo(Math.sqrt(s / 16), 12);
    const vwap = sessionVwapArrays(b, '24x7');
    expect(at(t, 'vwap_dist')).toBeCloseTo(b.close[t]! / vwap[t]! - 1, 12);
    // 300 bars of 15 minutes after midnight: 03:00 UTC.
    expect(at(t, 'tod_sin')).toBeCloseTo(Math.sin((2 * Math.PI * 3) / 24), 12);
    expect(at(t, 'f_band')).toBeCloseTo(0.022 * (opts.forecast!.q50![t]! / b.close[t]!), 10);
    expect(at(t, 'f_skew')).toBeCloseTo((0.012 - 0.01) / 0.022, 10);
  });

  it('takes the regime of the last completed coarse bar only', () => {
    const coarse = Float64Array.from({ length: n / 4 }, (_, k) => b.close[4 * k + 3]!);
    const labels = classifyRegimes(coarse, opts.regime).labels;
    expect(Number.isNaN(at(2, 'regime'))).toBe(true);
    expect(at(3, 'regime')).toBe(labels[0]);
    for (const t of [101, 102, 103, 104, 399]) expect(at(t, 'regime')).toBe(labels[Math.floor((t + 1) / 4) - 1]);
  });

  it('never looks ahead: changing every input after bar t leaves rows 0..t unchanged', () => {
    for (const t of [40, 257, 450]) {
      const pert = inputs(n, 3);
      const rng = new Rng(t);
      for (let u = t + 1; u < n; u++) {
        const k = Math.exp(0.05 * rng.normal());
        for (const a of [pert.b.open, pert.b.high, pert.b.low, pert.b.close]) a[u] = a[u]! * k;
        pert.b.volume[u] = pert.b.volume[u]! * 3 * rng.uniform();
        pert.opts.funding![u] = rng.normal();
        for (const a of Object.values(pert.opts.forecast!)) a[u] = a[u]! * 1.5;
      }
      const other = buildSignalFeatures(pert.b, pert.opts);
      const head = (x: Float64Array): number[] => Array.from(x.subarray(0, (t + 1) * F));
      expect(head(other.x)).toEqual(head(fm.x));
      // The perturbation is real: the rows after t differ.
      expect(Array.from(other.x.subarray((t + 1) * F))).not.toEqual(Array.from(fm.x.subarray((t + 1) * F)));
    }
  });

  it('rejects misaligned inputs and bad options', () => {
    expect(thrownBy(() => buildSignalFeatures(b, { funding: new Float64Array(5) }), DataError).location.column).toBe('funding');
    expect(thrownBy(() => buildSignalFeatures(b, { lags: [0] }), ConfigError).location.key).toBe('lags');
    expect(thrownBy(() => buildSignalFeatures(b, { regimeEvery: 1 }), ConfigError).location.key).toBe('regimeEvery');
  });
});
