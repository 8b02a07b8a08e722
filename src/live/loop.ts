/**
 * The realtime loop: each closed bar is appended to a fixed buffer (trimmed to the
 * lookback), checked, and forecast; the result goes to the sinks (summary file,
 * Redis, the service). Fail-safe by design: a bad, late, stale, gapped or
 * out-of-session bar is skipped, counted by reason and logged, and the loop never
 * queues work: a bar that arrives while a forecast runs waits in a single slot,
 * where a newer bar replaces it (the newest bar wins).
 */
import { asCompiled, sessionIndex, sessionTimestamps, type CompiledSession, type SessionLike } from '../data/sessions';
import type { BarArrays } from '../data/bars';
import { quietWindowsHit, type QuietWindow } from '../forecast/paths/pathOutlook';
import { BarBuffer } from './buffer';
import { Histogram } from './histogram';
import type { GapReport, LiveBar, LiveClock } from './types';

/** Why a bar got no forecast. */
export const SKIP_REASONS = ['warmUp', 'gap', 'stale', 'outsideSession', 'outOfOrder', 'badBar', 'deadline', 'superseded', 'quiet', 'error'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** What one forecast call gives back: a result, or the warm-up state (too few bars yet). */
export type ForecastAttempt<T> = { kind: 'done'; value: T; quiet: boolean } | { kind: 'warmingUp'; missing: number };

/** A consumer of each forecast (a file writer, a publisher, the service's cache). */
export interface ForecastSink<T> {
  /** Counted under this name when it fails. */
  readonly name: string;
  emit(value: T, bar: LiveBar): Promise<void> | void;
}

/** Options of {@link LiveLoop}. */
export interface LiveLoopOptions<T> {
  symbol: string;
  /** Bar length, ms. */
  barMs: number;
  /** Calendar: bars outside it are skipped; gaps are counted in its bars. */
  session: SessionLike | CompiledSession;
  /** Bars kept (the lookback plus what session features need). */
  capacity: number;
  /** The forecast of the buffer's bars (a copy; the newest is `bar`). */
  forecast(bars: BarArrays, bar: LiveBar): Promise<ForecastAttempt<T>>;
  /** Wall-clock ms a forecast may take before its bar is skipped as late; Infinity for none. */
  deadlineMs: number;
  /** Market-time ms a bar's close may lag the clock before it is stale. Default: one bar. */
  maxBarAgeMs?: number;
  clock: LiveClock;
  quietWindows?: readonly QuietWindow[];
  /** `flag` (default): forecast and flag `quiet`, as `quantbook forecast` does; `skip`: no forecast for a bar that closes inside a quiet window. */
  quiet?: 'flag' | 'skip';
  sinks?: ForecastSink<T>[];
  /**
   * Backfill hook for missing bars (`quantbook live` passes a REST connector's fetch, see
   * cli/liveSources.ts): given the gap, resolves to the missing bars (any subset, any order; bars
   * off the expected times or failing the bar checks are not used). Without it, or when it fails
   * or returns fewer bars than missing (both counted in the stats), the gap is reported and the
   * bar after it is skipped; the loop carries on.
   */
  backfillGap?: (gap: GapReport) => Promise<LiveBar[]>;
  log?: (line: string) => void;
}

/** Counters of a loop (flat memory: numbers and one fixed histogram). */
export interface LiveStats {
  barsReceived: number;
  forecasts: number;
  quietForecasts: number;
  skipped: Record<SkipReason, number>;
  gaps: number;
  missingBars: number;
  backfilledBars: number;
  /** Backfill calls that threw (nothing of the gap filled). */
  backfillFailures: number;
  /** Backfill calls that resolved with fewer usable bars than missing. */
  backfillShort: number;
  /** Failures per sink name. */
  sinkFailures: Record<string, number>;
  /** Forecast wall time, seconds (late ones included). */
  latency: Histogram;
  /** Open time of the last bar forecast, ms UTC; NaN before the first. */
  lastForecastBarMs: number;
}

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString().replace('.000Z', 'Z') : String(ms));

function badBarReason(b: LiveBar): string | undefined {
  const prices = [b.open, b.high, b.low, b.close];
  if (!Number.isFinite(b.ts)) return `open time ${b.ts} is not a number`;
  if (prices.some((p) => !(Number.isFinite(p) && p > 0))) return `prices must be finite and positive (open ${b.open}, high ${b.high}, low ${b.low}, close ${b.close})`;
  if (!(Number.isFinite(b.volume) && b.volume >= 0)) return `volume ${b.volume} must be finite and >= 0`;
  if (b.low > Math.min(b.open, b.close) || b.high < Math.max(b.open, b.close)) return `low ${b.low} / high ${b.high} do not contain open ${b.open} and close ${b.close}`;
  return undefined;
}

interface Pending {
  bar: LiveBar;
  done: () => void;
}

/**
 * The loop of one symbol. Feed it with {@link LiveLoop.onBar} (a source's sink does); read
 * {@link LiveLoop.stats}. See the module comment for the rules.
 * @example
 * const loop = new LiveLoop({ symbol: 'BTC', barMs: 60_000, session: '24x7', capacity: 2000, forecast, deadlineMs: 55_000, clock });
 * loop.prime(history);
 * await loop.onBar(bar); // forecast written, or the bar skipped and counted
 */
export class LiveLoop<T> {
  readonly stats: LiveStats;
  readonly buffer: BarBuffer;
  private readonly session: CompiledSession;
  private readonly maxBarAgeMs: number;
  private readonly log: (line: string) => void;
  private running: Promise<void> | undefined;
  private pending: Pending | undefined;
  private intake: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: LiveLoopOptions<T>) {
    this.session = asCompiled(opts.session);
    this.buffer = new BarBuffer(opts.capacity);
    this.maxBarAgeMs = opts.maxBarAgeMs ?? opts.barMs;
    this.log = opts.log ?? (() => undefined);
    this.stats = {
      barsReceived: 0,
      forecasts: 0,
      quietForecasts: 0,
      skipped: Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>,
      gaps: 0,
      missingBars: 0,
      backfilledBars: 0,
      backfillFailures: 0,
      backfillShort: 0,
      sinkFailures: {},
      latency: new Histogram(),
      lastForecastBarMs: NaN,
    };
  }

  /**
   * Loads history (time-sorted bars, e.g. the config's data file or a replay's first bars) into
   * the buffer without forecasting; bars outside the session are left out.
   * @example loop.prime(history); loop.buffer.length // min(history in session, capacity)
   */
  prime(a: BarArrays): void {
    const { sessionId } = sessionIndex(a.ts, this.session);
    for (let i = 0; i < a.ts.length; i++) {
      if (sessionId[i] >= 0 && !(a.ts[i] <= this.buffer.lastTs)) this.buffer.append({ ts: a.ts[i], open: a.open[i], high: a.high[i], low: a.low[i],
        close: a.close[i], volume: a.volume[i] });
    }
  }

  /**
   * Takes one closed bar. Resolves when the bar is handled: forecast and emitted, or skipped
   * (counted in `stats.skipped` by reason and logged). Never rejects.
   * @example await loop.onBar({ ts: Date.parse('2024-06-12T13:30:00Z'), open: 1, high: 1, low: 1, close: 1, volume: 5 })
   */
  onBar(bar: LiveBar): Promise<void> {
    // Admission is serialised (a backfill awaits); forecasting is not queued (see schedule).
    const admitted = this.intake.then(() => this.admit(bar));
    this.intake = admitted.catch(() => undefined);
    return admitted.then((ok) => (ok ? this.schedule(bar) : undefined)).catch((err) => this.skip(bar, 'error', errorText(err)));
  }

  /** A gap a source reports (a reconnect); logged. The loop counts gaps when the next bar shows them. */
  noteSourceGap(g: GapReport): void {
    this.log(`gap reported by the source after ${iso(g.afterMs)}${g.missingBars > 0 ? `: about ${g.missingBars} bars` : ''}; counted when the next bar arrives`);
  }

  /** Resolves when no bar is being admitted or forecast. */
  async idle(): Promise<void> {
    await this.intake;
    while (this.running) await this.running;
  }

  private skip(bar: LiveBar, reason: SkipReason, detail: string): void {
    this.stats.skipped[reason]++;
    this.log(`skip ${iso(bar.ts)} ${reason}: ${detail}`);
  }

  /** Skips a bar at admission: counted, logged, not forecast. */
  private refuse(bar: LiveBar, reason: SkipReason, detail: string): false {
    this.skip(bar, reason, detail);
    return false;
  }

  /** Checks and appends a bar; true when it should be forecast. */
  private async admit(bar: LiveBar): Promise<boolean> {
    this.stats.barsReceived++;
    const bad = badBarReason(bar);
    if (bad) return this.refuse(bar, 'badBar', bad);
    const last = this.buffer.lastTs;
    if (bar.ts <= last) return this.refuse(bar, 'outOfOrder', `not after the last bar ${iso(last)}`);
    if (sessionIndex(Float64Array.of(bar.ts), this.session).sessionId[0] < 0) return this.refuse(bar, 'outsideSession', `outside the ${this.session.spec.name} session`);
    let unfilled = 0;
    let hookNote = 'no backfill hook';
    if (Number.isFinite(last)) {
      const expected = sessionTimestamps(this.session, last + this.opts.barMs, bar.ts, this.opts.barMs);
      if (expected.length > 0) {
        this.stats.gaps++;
        this.stats.missingBars += expected.length;
        unfilled = expected.length;
        if (this.opts.backfillGap) {
          const got = await this.backfill({ afterMs: last, beforeMs: bar.ts, missingBars: expected.length, detectedBy: 'loop' }, expected);
          unfilled -= Math.max(0, got);
          hookNote = got < 0 ? 'backfill failed' : `backfill returned ${got}`;
        }
      }
    }
    this.buffer.append(bar);
    if (unfilled > 0) return this.refuse(bar, 'gap', `${unfilled} session bars missing before it (after ${iso(last)}); ${hookNote}`);
    const ageMs = this.opts.clock.now() - (bar.ts + this.opts.barMs);
    if (ageMs > this.maxBarAgeMs) return this.refuse(bar, 'stale', `closed ${Math.round(ageMs / 1000)} s ago (limit ${this.maxBarAgeMs / 1000} s)`);
    if (this.opts.quiet === 'skip') {
      const hit = quietWindowsHit(this.opts.quietWindows ?? [], bar.ts + this.opts.barMs, bar.ts + this.opts.barMs + 1);
      if (hit.length > 0) return this.refuse(bar, 'quiet', `inside quiet window ${hit.map((w) => w.label).join(', ')}`);
    }
    return true;
  }

  /** Appends the backfilled bars that fall on expected grid times, in order; returns how many, -1 when the hook threw. */
  private async backfill(gap: GapReport, expected: Float64Array): Promise<number> {
    let bars: LiveBar[];
    try {
      bars = await this.opts.backfillGap!(gap);
    } catch (err) {
      this.stats.backfillFailures++;
      this.log(`backfill of ${gap.missingBars} bars after ${iso(gap.afterMs)} failed: ${errorText(err)}`);
      return -1;
    }
    const want = new Set(expected);
    const usable = bars.filter((b) => want.has(b.ts) && !badBarReason(b)).sort((a, b) => a.ts - b.ts);
    let n = 0;
    for (const b of usable) {
      if (b.ts > this.buffer.lastTs) {
        this.buffer.append(b);
        n++;
      }
    }
    this.stats.backfilledBars += n;
    if (n < gap.missingBars) {
      this.stats.backfillShort++;
      this.log(`backfill of ${gap.missingBars} bars after ${iso(gap.afterMs)} gave ${n} usable of ${bars.length} returned`);
    }
    return n;
  }

  /** Runs now when idle; otherwise takes the single waiting slot (replacing an older bar there). */
  private schedule(bar: LiveBar): Promise<void> {
    if (this.running) {
      if (this.pending) {
        this.skip(this.pending.bar, 'superseded', `bar ${iso(bar.ts)} arrived while a forecast ran`);
        this.pending.done();
      }
      return new Promise((done) => {
        this.pending = { bar, done };
      });
    }
    const run = this.drain(bar).finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async drain(first: LiveBar): Promise<void> {
    let next: Pending | undefined = { bar: first, done: () => undefined };
    while (next) {
      await this.forecastOne(next.bar);
      next.done();
      next = this.pending;
      this.pending = undefined;
      if (next) {
        const ageMs = this.opts.clock.now() - (next.bar.ts + this.opts.barMs);
        if (ageMs > this.maxBarAgeMs) {
          this.skip(next.bar, 'stale', `waited while a forecast ran and closed ${Math.round(ageMs / 1000)} s ago (limit ${this.maxBarAgeMs / 1000} s)`);
          next.done();
          next = undefined;
        }
      }
    }
  }

  private async forecastOne(bar: LiveBar): Promise<void> {
    const t0 = performance.now();
    const work = this.opts.forecast(this.buffer.snapshot(this.opts.symbol), bar);
    let timer: NodeJS.Timeout | undefined;
    const deadline = Number.isFinite(this.opts.deadlineMs) ? new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), this.opts.deadlineMs))) : undefined;
    let outcome: ForecastAttempt<T> | 'late';
    try {
      outcome = await (deadline ? Promise.race([work, deadline]) : work);
    } catch (err) {
      clearTimeout(timer);
      this.stats.latency.observe((performance.now() - t0) / 1000);
      return this.skip(bar, 'error', errorText(err));
    }
    clearTimeout(timer);
    if (outcome === 'late') {
      this.skip(bar, 'deadline', `forecast still running after its deadline of ${Math.round(this.opts.deadlineMs)} ms; result discarded`);
      // The model cannot be interrupted mid-run: wait for it (result discarded) so forecasts never overlap.
      await work.catch(() => undefined);
      this.stats.latency.observe((performance.now() - t0) / 1000);
      return;
    }
    this.stats.latency.observe((performance.now() - t0) / 1000);
    if (outcome.kind === 'warmingUp') return this.skip(bar, 'warmUp', `${outcome.missing} more bars needed`);
    this.stats.forecasts++;
    if (outcome.quiet) this.stats.quietForecasts++;
    this.stats.lastForecastBarMs = bar.ts;
    for (const sink of this.opts.sinks ?? []) {
      try {
        await sink.emit(outcome.value, bar);
      } catch (err) {
        this.stats.sinkFailures[sink.name] = (this.stats.sinkFailures[sink.name] ?? 0) + 1;
        this.log(`${sink.name} failed for ${iso(bar.ts)}: ${errorText(err)}`);
      }
    }
  }
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}
