/**
 * Reference implementations for the session-aware kernels: the straightforward per-bar versions
 * (the library's code before the kernels moved to window runs), kept here to check that the
 * faster kernels give the very same arrays and counts. Plus seeded generators of awkward bars.
 */
import { Rng } from '../../src/core/random';
import { allocBarArrays, type BarArrays } from '../../src/data/bars';
import { DAY_MS } from '../../src/data/interval';
import { asCompiled, type CompiledSession, type SessionIndex, type SessionLike } from '../../src/data/sessions';
import { tzOffsetMs, wallToUtcMs } from '../../src/data/tz';

function yyyymmdd(day: number): number {
  const d = new Date(day * DAY_MS);
  return d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

/** Session facts of each bar looked up on its own: no caching, no runs. */
export function referenceSessionIndex(ts: Float64Array, session: SessionLike | CompiledSession): SessionIndex {
  const s = asCompiled(session);
  const n = ts.length;
  const out: SessionIndex = { sessionId: new Int32Array(n).fill(-1), windowStart: new Float64Array(n).fill(Number.NaN),
    windowEnd: new Float64Array(n).fill(Number.NaN) };
  for (let i = 0; i < n; i++) {
    const t = ts[i];
    if (s.continuous) {
      const day = Math.floor(t / DAY_MS);
      out.sessionId[i] = yyyymmdd(day);
      out.windowStart[i] = day * DAY_MS;
      out.windowEnd[i] = (day + 1) * DAY_MS;
      continue;
    }
    const day = Math.floor((t + tzOffsetMs(s.timeZone, t)) / DAY_MS);
    if (!s.weekdays.has((((day + 4) % 7) + 7) % 7) || s.holidays.has(day)) continue;
    for (const w of s.windows) {
      const start = wallToUtcMs(s.timeZone, day * DAY_MS + w.startMs, 'earliest');
      const end = wallToUtcMs(s.timeZone, day * DAY_MS + w.endMs, 'earliest');
      if (t >= start && t < end) {
        out.sessionId[i] = yyyymmdd(day);
        out.windowStart[i] = start;
        out.windowEnd[i] = end;
        break;
      }
    }
  }
  return out;
}

/** Gap filling bar by bar (same contract as fillGapsArrays). */
export function referenceFillGaps(a: BarArrays, barMs: number, session: SessionLike) {
  const s = asCompiled(session);
  const { sessionId, windowStart, windowEnd } = referenceSessionIndex(a.ts, s);
  const { ts, open, high, low, close, volume } = a;
  const n = ts.length;
  const joined = new Uint8Array(n);
  let extra = 0;
  for (let i = 1; i < n; i++) {
    const step = ts[i] - ts[i - 1];
    if (!(step > 0)) throw new Error(`unsorted at row ${i}`);
    if (sessionId[i] >= 0 && sessionId[i - 1] >= 0 && (s.continuous || windowStart[i] === windowStart[i - 1])) {
      joined[i] = 1;
      if (step > barMs) extra += Math.ceil(step / barMs) - 1;
    }
  }
  const out = allocBarArrays(n + extra, a.symbol);
  const filled = new Uint8Array(n + extra);
  let k = 0;
  let nFilled = 0;
  let edgeMissing = 0;
  let outsideSession = 0;
  let windowBars = 0;
  let lastIn = -1;
  for (let i = 0; i < n; i++) {
    const inside = sessionId[i] >= 0;
    if (!inside) outsideSession++;
    if (joined[i] === 1) {
      const c = close[i - 1];
      for (let t = ts[i - 1] + barMs; t < ts[i]; t += barMs) {
        out.ts[k] = t;
        out.open[k] = c;
        out.high[k] = c;
        out.low[k] = c;
        out.close[k] = c;
        filled[k] = 1;
        k++;
        windowBars++;
        nFilled++;
      }
    } else if (inside && (lastIn < 0 || windowStart[lastIn] !== windowStart[i])) {
      if (!s.continuous && lastIn >= 0) edgeMissing += Math.round((windowEnd[lastIn] - windowStart[lastIn]) / barMs) - windowBars;
      windowBars = 0;
    }
    out.ts[k] = ts[i];
    out.open[k] = open[i];
    out.high[k] = high[i];
    out.low[k] = low[i];
    out.close[k] = close[i];
    out.volume[k] = volume[i];
    k++;
    if (inside) {
      windowBars++;
      lastIn = i;
    }
  }
  if (!s.continuous && lastIn >= 0) edgeMissing += Math.round((windowEnd[lastIn] - windowStart[lastIn]) / barMs) - windowBars;
  return { ...out, filled, counts: { filled: nFilled, edgeMissing, outsideSession } };
}

/** Resampling bar by bar through a per-bar bucket array (same contract as resampleArrays). */
export function referenceResample(a: BarArrays, everyMs: number, session?: SessionLike) {
  const { ts, open, high, low, close, volume } = a;
  const n = ts.length;
  const bucket = new Float64Array(n);
  let outsideSession = 0;
  const s = session === undefined ? undefined : asCompiled(session);
  if (!s || s.continuous) {
    for (let i = 0; i < n; i++) bucket[i] = Math.floor(ts[i] / everyMs) * everyMs;
  } else {
    const { sessionId, windowStart } = referenceSessionIndex(ts, s);
    let sessionOpen = Number.NaN;
    for (let i = 0; i < n; i++) {
      if (sessionId[i] < 0) {
        bucket[i] = Number.NaN;
        outsideSession++;
        continue;
      }
      if (i === 0 || sessionId[i] !== sessionId[i - 1]) sessionOpen = windowStart[i];
      const w = windowStart[i];
      bucket[i] = everyMs >= DAY_MS ? sessionOpen : w + Math.floor((ts[i] - w) / everyMs) * everyMs;
    }
  }
  let m = 0;
  let last = Number.NaN;
  for (let i = 0; i < n; i++) {
    if (bucket[i] === bucket[i] && bucket[i] !== last) {
      m++;
      last = bucket[i];
    }
  }
  const out = allocBarArrays(m, a.symbol);
  const count = new Int32Array(m);
  let k = -1;
  last = Number.NaN;
  for (let i = 0; i < n; i++) {
    const b = bucket[i];
    if (b !== b) continue;
    if (b !== last) {
      k++;
      last = b;
      out.ts[k] = b;
      out.open[k] = open[i];
      out.high[k] = high[i];
      out.low[k] = low[i];
    } else {
      if (high[i] > out.high[k]) out.high[k] = high[i];
      if (low[i] < out.low[k]) out.low[k] = low[i];
    }
    out.close[k] = close[i];
    out.volume[k] += volume[i];
    count[k]++;
  }
  return { ...out, count, outsideSession };
}

/** Session VWAP bar by bar (same contract as sessionVwapArrays). */
export function referenceVwap(a: BarArrays, session: SessionLike, price: 'typical' | 'close' = 'typical'): Float64Array {
  const { sessionId } = referenceSessionIndex(a.ts, session);
  const out = new Float64Array(a.ts.length);
  let id = -2;
  let pv = 0;
  let vol = 0;
  for (let i = 0; i < a.ts.length; i++) {
    if (sessionId[i] < 0) {
      out[i] = Number.NaN;
      continue;
    }
    if (sessionId[i] !== id) {
      id = sessionId[i];
      pv = 0;
      vol = 0;
    }
    const p = price === 'typical' ? (a.high[i] + a.low[i] + a.close[i]) / 3 : a.close[i];
    pv += p * a.volume[i];
    vol += a.volume[i];
    out[i] = vol > 0 ? pv / vol : Number.NaN;
  }
  return out;
}

/**
 * Seeded, time-sorted bars every `barMs` from `fromIso` to `toIso` (UTC), each kept with
 * probability `keep`, now and then with a longer hole: gaps inside windows, at window edges,
 * over lunch, overnight, weekends and DST changes, plus bars outside every window.
 * Volume is 0 on about a tenth of the bars (VWAP stays NaN until something trades).
 */
export function randomBars(seed: number, fromIso: string, toIso: string, barMs: number, keep = 0.9, symbol?: string): BarArrays {
  const rng = new Rng(seed);
  const ts: number[] = [];
  for (let t = Date.parse(fromIso); t < Date.parse(toIso); t += barMs) {
    if (rng.uniform() < 0.005) t += barMs * (1 + rng.int(40)); // a longer hole
    if (rng.uniform() < keep) ts.push(t);
  }
  const n = ts.length;
  const out = allocBarArrays(n, symbol);
  out.ts.set(ts);
  let px = 100;
  for (let i = 0; i < n; i++) {
    const o = px;
    px *= Math.exp(0.002 * rng.normal());
    out.open[i] = o;
    out.close[i] = px;
    out.high[i] = Math.max(o, px) * (1 + 0.001 * rng.uniform());
    out.low[i] = Math.min(o, px) * (1 - 0.001 * rng.uniform());
    out.volume[i] = rng.uniform() < 0.1 ? 0 : Math.round(1000 * rng.uniform());
  }
  return out;
}

/** The same bars with a few rows swapped out of order (kernels that accept any order must agree on it too). */
export function shuffledSome(a: BarArrays, seed: number, swaps: number): BarArrays {
  const rng = new Rng(seed);
  const out = allocBarArrays(a.ts.length, a.symbol);
  for (const c of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) out[c].set(a[c]);
  for (let s = 0; s < swaps; s++) {
    const i = rng.int(a.ts.length);
    const j = rng.int(a.ts.length);
    for (const c of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) [out[c][i], out[c][j]] = [out[c][j], out[c][i]];
  }
  return out;
}

/** The bars that lie inside a window (as loaded RTH data): consecutive windows then meet with no bar between them. */
export function onlyInside(a: BarArrays, session: SessionLike): BarArrays {
  const { sessionId } = referenceSessionIndex(a.ts, session);
  const rows = Array.from(a.ts.keys()).filter((i) => sessionId[i] >= 0);
  const out = allocBarArrays(rows.length, a.symbol);
  for (const c of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) out[c].set(rows.map((i) => a[c][i]));
  return out;
}

/** Rows failing each validation rule, every check run on every row (as checkBarsWithCounts counts them). */
export function referenceRuleCounts(a: BarArrays, step: number): Record<'unsorted' | 'duplicate' | 'price' | 'ohlc' | 'volume' | 'interval', number> {
  const counts = { unsorted: 0, duplicate: 0, price: 0, ohlc: 0, volume: 0, interval: 0 };
  for (let i = 0; i < a.ts.length; i++) {
    if (i > 0) {
      const d = a.ts[i] - a.ts[i - 1];
      if (d < 0) counts.unsorted++;
      else if (d === 0) counts.duplicate++;
      else if (step > 0 && d % step !== 0) counts.interval++;
    }
    if ([a.open[i], a.high[i], a.low[i], a.close[i]].some((x) => !(x > 0 && x < Infinity))) counts.price++;
    if (a.high[i] < a.open[i] || a.high[i] < a.close[i] || a.low[i] > a.open[i] || a.low[i] > a.close[i]) counts.ohlc++;
    if (!(a.volume[i] >= 0 && a.volume[i] < Infinity)) counts.volume++;
  }
  return counts;
}

/** The bars with seeded defects: NaN, infinite, zero and negative values, OHLC contradictions, repeated, backward and odd steps. */
export function withDefects(a: BarArrays, seed: number, rows: number): BarArrays {
  const rng = new Rng(seed);
  const out = allocBarArrays(a.ts.length, a.symbol);
  for (const c of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) out[c].set(a[c]);
  const values = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -1, 1e9, 1e-9];
  const columns = ['open', 'high', 'low', 'close', 'volume'] as const;
  for (let k = 0; k < rows; k++) {
    const i = 1 + rng.int(a.ts.length - 1);
    const kind = rng.int(4);
    if (kind === 0) out[columns[rng.int(5)]][i] = values[rng.int(values.length)];
    else if (kind === 1) [out.high[i], out.low[i]] = [out.low[i], out.high[i]]; // high below low
    else if (kind === 2) out.ts[i] = out.ts[i - 1] + [0, -60_000, 30_000][rng.int(3)];
    else out.open[i] = out.high[i] * (1 + rng.uniform()); // open above high
  }
  return out;
}
