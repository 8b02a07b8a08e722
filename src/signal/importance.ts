/**
 * Feature importance of several series' models side by side, as shares of each series' total.
 */

/** Output of {@link importanceShares}. */
export interface ImportanceShares {
  /** Features, largest mean share first (ties in first-seen order), with that mean share in %. */
  features: Array<{ feature: string; meanPct: number }>;
  /** Per series, each feature's share of the series' total in %, in the order of `features`. */
  bySeries: Array<{ name: string; pct: number[] }>;
}

/**
 * Each feature's share of each series' total importance (e.g. `walkForwardSignal`'s total gain
 * summed over folds), `100 * imp[f] / sum(imp)`, a feature missing from a series counting 0; and
 * the mean of those shares over the series, which orders the features.
 * @throws RangeError for no series.
 * @example importanceShares([{ name: 'A', importance: { rvol: 3, hour: 1 } }]).features // [{ feature: 'rvol', meanPct: 75 }, { feature: 'hour', meanPct: 25 }]
 */
export function importanceShares(series: ReadonlyArray<{ name: string; importance: Readonly<Record<string, number>> }>): ImportanceShares {
  if (series.length === 0) throw new RangeError('importanceShares: no series');
  const names = [...new Set(series.flatMap((s) => Object.keys(s.importance)))];
  const share = (imp: Readonly<Record<string, number>>, k: string): number => {
    const total = Object.values(imp).reduce((a, b) => a + b, 0);
    return (100 * (Object.hasOwn(imp, k) ? imp[k] : 0)) / total;
  };
  const features = names.map((k) => ({ feature: k, meanPct: series.reduce((a, s) => a + share(s.importance, k), 0) / series.length }))
    .sort((a, b) => b.meanPct - a.meanPct);
  return { features, bySeries: series.map((s) => ({ name: s.name, pct: features.map((f) => share(s.importance, f.feature)) })) };
}
