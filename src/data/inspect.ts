/**
 * A summary of a bar file: what `quantbook data inspect` prints.
 */
import { type Bars, eachSymbol } from './bars';
import { firstUnorderedRow, formatDuration, inferIntervalMs } from './interval';
import { countGaps } from './gaps';
import { asCompiled, sessionIndex, type SessionLike } from './sessions';
import { checkBarsWithCounts, type ValidateOptions, type ValidationIssue, type ValidationRule } from './validate';

/** Per-symbol facts of {@link inspectBars}. */
export interface SymbolSummary {
  symbol: string;
  rows: number;
  first: string;
  last: string;
  /** Most common bar step, e.g. `'5m'`. */
  interval: string;
  /** Sessions (trading days) with at least one bar. */
  sessions: number;
  /** Sessions with at least one missing bar inside a window. */
  sessionsWithGaps: number;
  /** Missing bars between recorded bars of the same window (what `--fill` would insert). */
  missingBars: number;
  /** Missing bars at window starts/ends (not fillable). */
  edgeMissing: number;
  /** Bars outside every session window. */
  outsideSession: number;
}

/** Output of {@link inspectBars}. */
export interface InspectReport {
  rows: number;
  symbols: SymbolSummary[];
  session: string;
  first: string;
  last: string;
  /** Validation problems (at most 5 per rule). */
  problems: ValidationIssue[];
  /** Offending rows per rule, all of them. */
  problemCounts: Record<ValidationRule, number>;
}

/**
 * Summarizes bars: rows, symbols, span, interval, gaps per session, validation problems.
 * Gap counts need sorted, unique timestamps; when those rules fail they are reported as problems and
 * the gap counts of that symbol are left at 0. Gaps are counted, never filled: a bar stamped a
 * century off costs no more than any other.
 * @param opts.allowMixedIntervals - do not report symbols with different intervals (as the loader's flag).
 * @example inspectBars(loadBars('data/crypto-5m.parquet'), '24x7').symbols[0].missingBars // 18
 */
export function inspectBars(bars: Bars, session: SessionLike = '24x7', opts: Pick<ValidateOptions, 'allowMixedIntervals'> = {}): InspectReport {
  const s = asCompiled(session);
  const { issues: problems, counts: problemCounts } = checkBarsWithCounts(bars, { allowMixedIntervals: opts.allowMixedIntervals });
  const symbols: SymbolSummary[] = [];
  for (const { arrays: a } of eachSymbol(bars)) {
    const n = a.ts.length;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      if (a.ts[i] < lo) lo = a.ts[i];
      if (a.ts[i] > hi) hi = a.ts[i];
    }
    const barMs = inferIntervalMs(a.ts);
    const sorted = firstUnorderedRow(a.ts) < 0;
    const summary: SymbolSummary = {
      symbol: a.symbol ?? '',
      rows: n,
      first: new Date(lo).toISOString(),
      last: new Date(hi).toISOString(),
      interval: barMs ? formatDuration(barMs) : 'one bar',
      sessions: 0,
      sessionsWithGaps: 0,
      missingBars: 0,
      edgeMissing: 0,
      outsideSession: 0,
    };
    // Sessions of the recorded bars, not of the filled ones: in a continuous market a gap can
    // span a whole day, and its filled bars would add a session that has no bars.
    const ids = sessionIndex(a.ts, s).sessionId;
    summary.sessions = new Set(ids.filter((id) => id >= 0)).size;
    if (sorted && barMs) {
      // Counted, not filled: memory in proportion to the bars, however long the gaps.
      const g = countGaps(a, barMs, s);
      summary.missingBars = g.filled;
      summary.edgeMissing = g.edgeMissing;
      summary.outsideSession = g.outsideSession;
      summary.sessionsWithGaps = g.sessionsWithGaps;
    }
    symbols.push(summary);
  }
  const firsts = symbols.map((x) => x.first).sort();
  const lasts = symbols.map((x) => x.last).sort();
  return { rows: bars.height, symbols, session: s.spec.name, first: firsts[0], last: lasts[lasts.length - 1], problems, problemCounts };
}
