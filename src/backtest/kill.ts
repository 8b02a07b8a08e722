/**
 * Kill-switch state of one run: which switch fired when, whether trading is
 * paused or stopped, and the reference levels (running peak, the session's
 * starting equity) the switches measure against.
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
  // Number fields start as numbers (see Ledger.cash: a field first defined as undefined stores
  // every later number as a new heap object).
  private peak = 0;
  private dayStart = 0;
  private last: KillEvent | null = null;
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
  }

  /** Whether new positions may be taken at `time`. */
  isTrading(time: number): boolean {
    return this.active === true && this.pausedRestOfDay === false && time >= this.pausedUntil;
  }

  /** Records an event and applies its action (positions are flattened at this bar's decision). */
  trigger(name: KillSwitchName, t: number, value: number, threshold: number, action: KillAction, symbol?: string): void {
    this.last = { switch: name, bar: t, time: this.ts[t], value, threshold, action, resumeTime: null, ...(symbol ? { symbol } : {}) };
    this.events.push(this.last);
    this.flatten = true;
    if (action.kind === 'stop') {
      this.active = false;
      this.stoppedAt = this.ts[t];
    } else if (action.kind === 'pause') this.pausedUntil = this.ts[t] + action.minutes * 60_000;
    else this.pausedRestOfDay = true;
  }

  /** A funding rate arrived for a traded perpetual. */
  onFunding(t: number, rate: number, symbol: string): void {
    const spike = this.cfg.fundingSpike;
    if (spike && !this.flatten && this.isTrading(this.ts[t]) && Math.abs(rate) > spike.absRate) this.trigger('fundingSpike', t, rate, spike.absRate, spike.action, symbol);
  }

  /**
   * The checks on equity marked at bar t's close: resume a finished pause, then ruin,
   * maximum drawdown, daily loss and consecutive losers (first that fires wins).
   */
  atClose(t: number, equity: number, ledger: Ledger, previousBarEndedSession: boolean): void {
    if (this.active === false) return;
    const time = this.ts[t];
    if ((this.pausedUntil !== -Infinity && time >= this.pausedUntil) || (this.pausedRestOfDay === true && previousBarEndedSession)) {
      this.pausedUntil = -Infinity;
      this.pausedRestOfDay = false;
      // After a pause the drawdown is measured from where trading resumed, or it would fire again at once.
      this.peak = equity;
      ledger.losingStreak = 0;
      if (this.last) this.last.resumeTime = time;
    }
    if (equity <= 0) {
      this.trigger('ruin', t, equity, 0, { kind: 'stop' });
      return;
    }
    if (!this.isTrading(time) || this.flatten === true) return;
    if (equity > this.peak) this.peak = equity;
    const dd = 1 - equity / this.peak;
    const dayLoss = 1 - equity / this.dayStart;
    if (dd >= this.maxDrawdownAt) this.trigger('maxDrawdown', t, dd, this.maxDrawdownAt, this.cfg.maxDrawdown!.action);
    else if (dayLoss >= this.dailyLossAt) this.trigger('dailyLoss', t, dayLoss, this.dailyLossAt, this.cfg.dailyLoss!.action);
    else if (ledger.losingStreak >= this.losingStreakAt) {
      this.trigger('consecutiveLosses', t, ledger.losingStreak, this.losingStreakAt, this.cfg.consecutiveLosses!.action);
      ledger.losingStreak = 0;
    }
  }

  /** The session ended with this equity: the next day's loss is measured from it. */
  sessionEnded(equity: number): void {
    this.dayStart = equity;
  }
}
