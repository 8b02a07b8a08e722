/**
 * Half-open time ranges `[start, end)` in ms UTC, kept sorted and merged: what a bar store has
 * fetched, what it still has to fetch, and the gaps between stored bars.
 */

/** A half-open range of times, `[start, end)`, ms since the epoch (UTC). */
export type TimeRange = readonly [start: number, end: number];

/**
 * Sorts ranges and merges those that overlap or touch; drops empty ones.
 * @example mergeRanges([[5, 9], [0, 5], [20, 20]]) // [[0, 9]]
 */
export function mergeRanges(ranges: readonly TimeRange[]): TimeRange[] {
  const sorted = ranges.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/**
 * The parts of `from` not covered by `minus` (both merged first).
 * @example subtractRanges([[0, 10]], [[2, 4], [8, 12]]) // [[0, 2], [4, 8]]
 */
export function subtractRanges(from: readonly TimeRange[], minus: readonly TimeRange[]): TimeRange[] {
  const cut = mergeRanges(minus);
  const out: TimeRange[] = [];
  for (const [a0, b] of mergeRanges(from)) {
    let a = a0;
    for (const [c, d] of cut) {
      if (d <= a || c >= b) continue;
      if (c > a) out.push([a, c]);
      a = Math.max(a, d);
      if (a >= b) break;
    }
    if (a < b) out.push([a, b]);
  }
  return out;
}

/**
 * Total length of merged ranges, ms.
 * @example rangesLength([[0, 10], [5, 20]]) // 20
 */
export function rangesLength(ranges: readonly TimeRange[]): number {
  return mergeRanges(ranges).reduce((n, [a, b]) => n + (b - a), 0);
}

/** ISO text of a time in ms (UTC, with milliseconds). */
export function isoMs(ms: number): string {
  return new Date(ms).toISOString();
}
