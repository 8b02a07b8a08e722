/**
 * Kill-switch state of one run: which switch fired when, whether trading is
 * paused or stopped, and the reference levels (running peak, the session's
 * starting equity) the switches measure against.
 *
 * The maximum-drawdown switch measures from the running peak of closing equity since
 * the start of the run; it is checked at every close while the run is active, paused or
 * not, and fires at the first close at or past its threshold. Its peak is reset only by
 * the rule the config names (`killSwitches.maxDrawdown.peakReset`), never silently by
 * another switch's pause.
 */
import type { BacktestConfig, KillAction } from './config';
import type { Ledger } from './ledger';
import type { KillEvent, KillSwitchName } from './result';

/**
 * Kill switches of one run. Checked at every bar, so flags are tested with `=== true` / `=== false`:
 * a bare boolean field in a condition compiles to a full truthiness test (false, '', heap number, bigint).
 */
export class KillState {
  /** False once a `stop` action (or ruin) fired. */
  active = true;
  stoppedAt: number | null = null;
  /** Flatten every position at this bar's decision. */
  flatten = false;
  readonly events: KillEvent[] = [];
  private pausedUntil = -Infinity;
  private pausedRestOfDay = false;
  /** True while a pause that the maximum-drawdown switch caused is running. */
  private drawdownPaused = false;
  private readonly resetPeakAfterAnyPause: boolean = false;
  /** Pause events still waiting for their resume time. */
  private readonly open: KillEvent[] = [];
  // Number fields start as numbers (see Ledger.cash: a field first defined as undefined stores
  // every later number as a new heap object).
  private peak = 0;
  private dayStart = 0;
  // Thresholds as numbers, Infinity for a switch that is off: the checks at every bar's close
  // are then plain compares, not truthiness tests of config objects.
  private readonly maxDrawdownAt: number = Infinity;
  private readonly dailyLossAt: number = Infinity;
  private readonly losingStreakAt: number = Infinity;

  constructor(
    capital: number,
    private readonly ts: Float64Array,
    private readonly cfg: BacktestConfig['killSwitches'],
  ) {
    this.peak = capital;
    this.dayStart = capital;
    this.maxDrawdownAt = cfg.maxDrawdown?.threshold ?? Infinity;
    this.dailyLossAt = cfg.dailyLoss?.threshold ?? Infinity;
    this.losingStreakAt = cfg.consecutiveLosses?.count ?? Infinity;
    this.resetPeakAfterAnyPause = cfg.maxDrawdown?.peakReset === 'afterAnyPause';
  }

  /** Whether new positions may be taken at `time`. */
  isTrading(time: number): boolean {
    return this.active === true && this.pausedRestOfDay === false && time >= this.pausedUntil;
  }

  /** Records an event and applies its action (positions are flattened at this bar's decision). */
  trigger(name: KillSwitchName, t: number, value: number, threshold: number, action: KillAction, symbol?: string): void {
    const event: KillEvent = { switch: name, bar: t, time: this.ts[t], value, threshold, action, resumeTime: null, ...(symbol ? { symbol } : {}) };
    this.events.push(event);
    this.flatten = true;
    if (action.kind === 'stop') {
      this.active = false;
      this.stoppedAt = this.ts[t];
      return;
    }
    this.open.push(event);
    if (name === 'maxDrawdown') this.drawdownPaused = true;
    if (action.kind === 'pause') this.pausedUntil = Math.max(this.pausedUntil, this.ts[t] + action.minutes * 60_000);
    else this.pausedRestOfDay = true;
  }

  /** A funding rate arrived for a traded perpetual. */
  onFunding(t: number, rate: number, symbol: string): void {
    const spike = this.cfg.fundingSpike;
    if (spike && !this.flatten && this.isTrading(this.ts[t]) && Math.abs(rate) > spike.absRate) this.trigger('fundingSpike', t, rate, spike.absRate, spike.action, symbol);
  }

  /**
   * The checks on equity marked at bar t's close (`ledger.equity`): resume a finished pause, then ruin,
   * maximum drawdown (also while paused), daily loss and consecutive losers (first that fires wins).
   * Equity comes in the ledger, not as an argument: a double passed to a call that is not inlined
   * is boxed, an allocation at every bar.
   */
  atClose(t: number, ledger: Ledger, previousBarEndedSession: boolean): void {
    if (this.active === false) return;
    const equity = ledger.equity;
    const time = this.ts[t];
    if (this.open.length > 0) this.resume(time, equity, ledger, previousBarEndedSession);
    if (equity <= 0) {
      this.trigger('ruin', t, equity, 0, { kind: 'stop' });
      return;
    }
    if (equity > this.peak) this.peak = equity;
    // Another switch fired at this bar already (a funding spike): positions are being flattened.
    if (this.flatten === true) return;
    const dd = 1 - equity / this.peak;
    if (dd >= this.maxDrawdownAt && this.drawdownPaused === false) {
      this.trigger('maxDrawdown', t, dd, this.maxDrawdownAt, this.cfg.maxDrawdown!.action);
      return;
    }
    if (!this.isTrading(time)) return;
    const dayLoss = 1 - equity / this.dayStart;
    if (dayLoss >= this.dailyLossAt) this.trigger('dailyLoss', t, dayLoss, this.dailyLossAt, this.cfg.dailyLoss!.action);
    else if (ledger.losingStreak >= this.losingStreakAt) {
      this.trigger('consecutiveLosses', t, ledger.losingStreak, this.losingStreakAt, this.cfg.consecutiveLosses!.action);
      ledger.losingStreak = 0;
    }
  }

  /** Ends the pauses whose time is up; when none is left, trading resumes at this bar. */
  private resume(time: number, equity: number, ledger: Ledger, previousBarEndedSession: boolean): void {
    if (this.pausedUntil !== -Infinity && time >= this.pausedUntil) this.pausedUntil = -Infinity;
    if (this.pausedRestOfDay === true && previousBarEndedSession) this.pausedRestOfDay = false;
    if (!this.isTrading(time)) return;
    // The peak is reset after the drawdown switch's own pause (or it would fire again at once),
    // or after any pause when the config asks for it.
    if (this.drawdownPaused === true || this.resetPeakAfterAnyPause === true) this.peak = equity;
    this.drawdownPaused = false;
    ledger.losingStreak = 0;
    for (const e of this.open) e.resumeTime = time;
    this.open.length = 0;
  }

  /** The session ended with this equity: the next day's loss is measured from it. */
  sessionEnded(equity: number): void {
    this.dayStart = equity;
  }
}
