/**
 * Bar intervals: parsing `'30m'`-style durations and inferring the interval of
 * a series of bar timestamps.
 */
import { ConfigError, DataError } from '../core/errors';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Milliseconds in one minute, hour and day (UTC, no leap seconds). */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * Parses a duration such as `'1m'`, `'30m'`, `'4h'`, `'1d'`, `'500ms'` into milliseconds.
 *
 * Units: `ms`, `s`, `m` (minutes), `h`, `d`, `w`. A day is 24 h of UTC time.
 * @throws ConfigError when the text is not a positive integer followed by a unit.
 * @example parseDuration('30m') // 1_800_000
 */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+)\s*(ms|s|m|h|d|w)\s*$/.exec(text);
  if (!m || Number(m[1]) <= 0) {
    throw new ConfigError('duration must be a positive integer with a unit ms, s, m, h, d or w, like "30m"', { value: text });
  }
  return Number(m[1]) * UNIT_MS[m[2]];
}

/**
 * Formats milliseconds as the shortest exact duration text (`1_800_000` -> `'30m'`).
 * @example formatDuration(14_400_000) // '4h'
 */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const u = UNIT_MS[unit];
    if (ms >= u && ms % u === 0) return `${ms / u}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * Infers the bar interval as the most common positive step between consecutive
 * timestamps (the mode, so gaps and session breaks do not distort it).
 *
 * Ties go to the smaller step. Non-increasing steps are ignored (validation reports them).
 * @param ts - bar start times in ms UTC, sorted per symbol.
 * @param groupStarts - optional indices where a new symbol starts; steps across them are skipped.
 * @returns the interval in ms, or `undefined` for fewer than two bars.
 * @example inferIntervalMs(new Float64Array([0, 60_000, 120_000, 600_000])) // 60_000
 */
export function inferIntervalMs(ts: Float64Array, groupStarts?: ArrayLike<number>): number | undefined {
  const counts = new Map<number, number>();
  const starts = new Set<number>(groupStarts ? Array.from(groupStarts) : []);
  // Steps come in long runs of the same value: count a run at once instead of one Map update per bar.
  let from = 1;
  while (from < ts.length) {
    const run = stepRun(ts, from, starts);
    if (run.length > 0) counts.set(run.step, (counts.get(run.step) ?? 0) + run.length);
    from = run.end;
  }
  let best: number | undefined;
  let bestCount = 0;
  for (const [step, count] of counts) {
    if (count > bestCount || (count === bestCount && best !== undefined && step < best)) {
      best = step;
      bestCount = count;
    }
  }
  return best;
}

/** A bar interval a caller may pass to a per-symbol step: one for every symbol, or one per symbol (`''` keys a frame without `symbol`). */
export type BarIntervals = number | Readonly<Record<string, number>>;

/**
 * The bar interval of one symbol's bars: the one `given` for it (the number, or its own entry of
 * the record, as `validateBars` returns them in `intervalMs`), else inferred from `ts` as
 * {@link inferIntervalMs} does. A record's inherited keys (a symbol named `constructor`) do not count.
 * @returns the interval in ms, or `undefined` when none is given and `ts` holds fewer than two bars.
 * @example intervalFor({ A: 60_000 }, 'A', ts) // 60_000, without reading ts
 */
export function intervalFor(given: BarIntervals | undefined, symbol: string | undefined, ts: Float64Array): number | undefined {
  if (typeof given === 'number') return given;
  const key = symbol ?? '';
  if (given !== undefined && Object.hasOwn(given, key) && typeof given[key] === 'number') return given[key];
  return inferIntervalMs(ts);
}

/**
 * From row `from` on: the first positive step (skipping group starts and steps <= 0), how many
 * steps in a row equal it (skipping the same), and the row where another positive step begins.
 * A plain loop on locals (no closure) so V8 keeps the counters in registers.
 */
function stepRun(ts: Float64Array, from: number, starts: Set<number>): { step: number; length: number; end: number } {
  const skip = starts.size > 0;
  let step = Number.NaN;
  let length = 0;
  let i = from;
  for (; i < ts.length; i++) {
    if (skip && starts.has(i)) continue;
    const d = ts[i] - ts[i - 1];
    if (!(d > 0)) continue;
    if (length === 0) step = d;
    else if (d !== step) break;
    length++;
  }
  return { step, length, end: i };
}

/**
 * The first row whose timestamp is not strictly after the previous one (unsorted, duplicate or
 * NaN), or -1 when `ts` is strictly increasing. Kernels that need sorted bars check with it.
 * @example firstUnorderedRow(Float64Array.of(0, 60_000, 60_000)) // 2
 */
export function firstUnorderedRow(ts: Float64Array): number {
  for (let i = 1; i < ts.length; i++) if (!(ts[i] > ts[i - 1])) return i;
  return -1;
}

/**
 * Checks that `everyMs` is a whole multiple of the bar interval.
 * @throws DataError naming both durations when it is not.
 * @example assertMultiple(1_800_000, 60_000) // ok: 30m is 30 x 1m
 */
export function assertMultiple(everyMs: number, barMs: number, file?: string): void {
  if (everyMs < barMs || everyMs % barMs !== 0) {
    throw new DataError(
      `cannot resample ${formatDuration(barMs)} bars to ${formatDuration(everyMs)}: the target must be a whole multiple of the bar interval`,
      { file, value: formatDuration(everyMs) },
    );
  }
}
