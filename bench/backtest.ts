/**
 * Backtest engine speed: 10 symbols x 1 million bars with precomputed forecasts
 * through the full sizing and accounting path (half-Kelly, per-symbol cap, gross
 * cap, long-only where it applies, minimum trade, cash, fees, slippage, lots,
 * interest, kill switches), single-threaded; and, in the same run, the floor: one
 * plain pass over the same arrays (open, close, mu, sigma), summing a Kelly
 * position times the bar's move.
 *
 * The targets path (`targetSignals`: per-bar target weights, here the same half-Kelly fractions
 * the forecast path sizes) runs through the same engine and is timed beside it.
 *
 * Run: npm run bench:backtest [-- --bars 1000000 --symbols 10 --repeats 3]
 * Goals: >= 10M bar-symbol steps per second on one core; engine within 10x of the floor; both paths.
 */
import { runBacktest } from '../src/backtest/engine';
import type { Signals } from '../src/backtest/signals';
import { targetSignals } from '../src/backtest/targets';
import type { MarketArrays } from '../src/backtest/market';
import { cpus, loadavg } from 'node:os';
import { Rng } from '../src/core/random';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const T = arg('bars', 1_000_000);
const S = arg('symbols', 10);
const repeats = arg('repeats', 3);

function buildMarket(): { market: MarketArrays; mu: Float64Array; sigma: Float64Array } {
  const rng = new Rng(20240101);
  const n = T * S;
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const mu = new Float64Array(n);
  const sigma = new Float64Array(n);
  const price = new Float64Array(S).fill(100);
  const view = new Float64Array(S);
  for (let t = 0; t < T; t++) {
    for (let s = 0; s < S; s++) {
      const i = t * S + s;
      // No edge: the forecast is slow, persistent noise (a 30-bar forecast changes little from
      // one bar to the next), so positions reverse now and then and rebalance as prices move
      // (orders on about 10% of steps), while equity neither explodes nor dies over a million
      // bars (costs are kept small for the same reason).
      view[s] = 0.99999 * view[s] + 0.0000004 * rng.normal();
      const o = price[s];
      const c = o * Math.exp(0.002 * rng.normal());
      open[i] = o;
      close[i] = c;
      high[i] = Math.max(o, c) * 1.0005;
      low[i] = Math.min(o, c) * 0.9995;
      price[s] = c;
      mu[i] = view[s];
      sigma[i] = 0.02;
    }
  }
  const ts = Float64Array.from({ length: T }, (_, t) => Date.UTC(2020, 0, 1) + t * 60_000);
  const sessionEnd = new Uint8Array(T);
  for (let t = 1439; t < T; t += 1440) sessionEnd[t] = 1;
  sessionEnd[T - 1] = 1;
  return { market: { symbols: Array.from({ length: S }, (_, s) => `S${s}`), ts, open, high, low, close, sessionEnd }, mu, sigma };
}

/** The floor: one plain pass over the arrays the engine's step reads. */
function onePass(m: MarketArrays, mu: Float64Array, sigma: Float64Array): number {
  let acc = 0;
  const { open, close } = m;
  for (let i = 0; i < mu.length; i++) acc += (mu[i] / (sigma[i] * sigma[i])) * (close[i] - open[i]);
  return acc;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const t0 = performance.now();
const { market, mu, sigma } = buildMarket();
const buildMs = performance.now() - t0;
const signals: Signals = { mu, sigma, horizonBars: 30 };
// The targets path: the weights the forecast path computes before its limits (half-Kelly times the
// stock class's leverage multiplier 4; sigma is above the floor), so both runs hold the same positions.
const weights = new Float64Array(mu.length);
for (let i = 0; i < mu.length; i++) weights[i] = (4 * 0.5 * mu[i]) / (sigma[i] * sigma[i]);
const targets = targetSignals(market, { target: weights });
// Kill switches are checked every bar, with thresholds this market never reaches, so every run does the same work.
const config = {
  defaultClass: 'stock',
  capital: 1_000_000,
  classes: { stock: { feeBps: 0.1, slippageBps: 0.1 } },
  killSwitches: { maxDrawdown: { threshold: 0.99 }, dailyLoss: { threshold: 0.5 }, consecutiveLosses: { count: 1_000_000 } },
};
const options = { recordPositions: false };

// Timed by this process's CPU time (user + system): on a shared machine wall time also
// counts the time other processes held the core. Wall time is printed beside it.
interface Timing {
  cpuMs: number;
  wallMs: number;
}
function timed(f: () => void): Timing {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  f();
  const c = process.cpuUsage(c0);
  return { cpuMs: (c.user + c.system) / 1000, wallMs: performance.now() - w0 };
}

// Warm the JIT on a slice before timing.
const W = 20_000;
runBacktest(
  { ...market, ts: market.ts.subarray(0, W), open: market.open.subarray(0, W * S), high: market.high.subarray(0, W * S), low: market.low.subarray(0, W * S), close: market.close.subarray(0, W * S), sessionEnd: market.sessionEnd.subarray(0, W) },
  { ...signals, mu: mu.subarray(0, W * S), sigma: sigma.subarray(0, W * S) },
  config,
  options,
);
onePass(market, mu, sigma);

// The main run, and a low-turnover one (a 2% minimum trade instead of 0.5%) for comparison.
const scenarios = [
  { label: 'engine (full sizing + accounting)', config, signals },
  { label: 'engine, 2% minimum trade (low turnover)', config: { ...config, limits: { minTradeFraction: 0.02 } }, signals },
  { label: 'targets path (same positions as weights)', config, signals: targets },
];
const runs = scenarios.map(() => [] as Timing[]);
const results = scenarios.map((sc) => runBacktest(market, sc.signals, sc.config, options));
const floorRuns: Timing[] = [];
let sink = 0;
for (let k = 0; k < repeats; k++) {
  scenarios.forEach((sc, i) => runs[i].push(timed(() => (results[i] = runBacktest(market, sc.signals, sc.config, options)))));
  floorRuns.push(timed(() => (sink += onePass(market, mu, sigma))));
}
const steps = T * S;
const medianCpu = (xs: Timing[]): number => median(xs.map((x) => x.cpuMs));
const fmt = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(1)}M` : `${(x / 1e3).toFixed(1)}k`);
const row = (label: string, xs: Timing[]): string =>
  `| ${label} | ${xs.map((x) => x.cpuMs.toFixed(0)).join(', ')} | ${xs.map((x) => x.wallMs.toFixed(0)).join(', ')} | ${medianCpu(xs).toFixed(0)} | ${fmt(steps / (medianCpu(xs) / 1000))} |`;

console.log(`backtest engine benchmark: ${S} symbols x ${T.toLocaleString('en-US')} bars = ${steps.toLocaleString('en-US')} bar-symbol steps (data built in ${(buildMs / 1000).toFixed(1)} s)`);
console.log(`node ${process.version}, one thread, median CPU time of ${repeats} runs after a warm-up; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores`);
console.log('');
console.log('| run | CPU ms (each) | wall ms (each) | median CPU ms | steps/s |');
console.log('| --- | --- | --- | --- | --- |');
scenarios.forEach((sc, i) => console.log(row(sc.label, runs[i])));
console.log(row('floor (one plain pass)', floorRuns));
console.log('');
scenarios.forEach((sc, i) => {
  const r = results[i];
  console.log(
    `${sc.label}: final equity ${r.equity[T - 1].toExponential(3)}, fills ${r.fills.toLocaleString('en-US')} (${((100 * r.fills) / steps).toFixed(1)}% of steps), trades ${r.trades.length.toLocaleString('en-US')}, ` +
      `limit binds: ${Object.entries(r.limits.counts).map(([k, v]) => `${k} ${v}`).join(', ')}; kill events ${r.killEvents.length}`,
  );
});
console.log(`(checksum ${sink.toExponential(3)})`);
console.log('');
console.log(`steps per second: ${fmt(steps / (medianCpu(runs[0]) / 1000))}`);
console.log(`engine / one-pass time: ${(medianCpu(runs[0]) / medianCpu(floorRuns)).toFixed(1)}x`);
console.log(`targets path steps per second: ${fmt(steps / (medianCpu(runs[2]) / 1000))}`);
console.log(`targets path engine / one-pass time: ${(medianCpu(runs[2]) / medianCpu(floorRuns)).toFixed(1)}x`);
