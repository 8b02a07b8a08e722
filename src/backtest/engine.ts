/**
 * The backtest engine: forecasts (mu, sigma per bar and symbol) -> target
 * fractions of equity -> limits -> orders -> fills -> cash, positions, costs,
 * trades, equity; with kill switches. One loop over typed arrays, no allocation
 * per step (trades and kill events are the only objects made, when they happen).
 *
 * Timeline of bar t (ts[t] is the bar's open time):
 * 1. time passes from ts[t-1] to ts[t]: interest on borrowed cash, funding of
 *    perpetuals whose funding time falls in (ts[t-1], ts[t]] (priced at open[t]);
 * 2. orders decided at t-1 fill at open[t] (sells before buys; `fill: 'nextOpen'`);
 * 3. stops (rule `entryExit`) trigger on high/low of bar t, filling at the stop or a worse open;
 * 4. positions are marked at close[t]; kill switches are checked on that equity;
 * 5. the decision: targets from signals at t and equity at close[t]; limits in order
 *    (per-symbol cap, gross cap, long-only, minimum trade, cash); orders fill at open[t+1],
 *    or at close[t] with `fill: 'close'` and, for classes with a lower at-close cap, at
 *    the session's last bar (market-on-close), so that the position held overnight meets it.
 */
import { ConfigError, DataError } from '../core/errors';
import { medianBarMs, type MarketArrays } from './market';
import { periodsPerYear as periodsPerYearOf } from './annualize';
import { type BacktestConfig, type KillAction, INSTRUMENT_CLASSES, classRules, resolveConfig, symbolClass } from './config';
import { prepareFunding } from './funding';
import { Ledger, REASON } from './ledger';
import { LIMIT_NAMES, type BacktestOptions, type BacktestResult, type KillEvent, type KillSwitchName, type LimitName } from './result';
import { checkSignals, type Signals } from './signals';

const L_CAP = 0;
const L_GROSS = 1;
const L_GROSS_CLOSE = 2;
const L_LONG = 3;
const L_MIN = 4;
const L_CASH = 5;

const YEAR_MS = 365 * 86_400_000;
const KELLY = 0;
const TARGET_WEIGHT = 1;
const VOL_TARGET = 2;

/**
 * Runs a backtest of precomputed signals on market arrays.
 *
 * Sizing (`f` = target position notional / equity, per symbol):
 * - kelly: `f = fraction * mu / sigma^2` (Thorp 2006, excess over a zero rate), sigma floored at `sigmaFloor`;
 * - targetWeight: `f = weight` (or `weight * sign(mu)`);
 * - volTarget: `f = annualVol / (sigma * sqrt(periodsPerYear / horizonBars))` (times sign(mu) by default);
 * - regime: the base sizing times the multiplier of the bar's regime label;
 * then `f *= leverageMultiplier` of the symbol's class, and the limits, in order, each counted
 * when it changes the target: per-symbol cap `|f| <= perSymbolCap`; gross cap per class
 * `sum |f| <= grossIntraday` (`grossAtClose` at a session's last bar), scaling the class's
 * targets pro rata; long-only; minimum trade (orders closing a position are exempt);
 * cash (cash-only classes buy with cash on hand, after the bar's sells).
 * Quantities are rounded toward zero to the class's lot.
 *
 * @param market - bars of every symbol on one grid (see `alignSeries`).
 * @param signals - mu, sigma (and regime / entry / score) per bar and symbol.
 * @param config - a config (resolved or as written; defaults fill the rest).
 * @throws ConfigError for contradictory limits, a symbol without a known class, funding for a non-perpetual.
 * @throws DataError for forecast arrays that do not line up with the bars, NaN or negative
 *   forecasts at a bar where they are used, non-positive prices.
 * @example
 * const r = runBacktest(market, { mu, sigma, horizonBars: 30 }, { defaultClass: 'crypto' });
 * r.equity[r.equity.length - 1]; // final equity
 */
export function runBacktest(market: MarketArrays, signals: Signals, config: unknown = {}, options: BacktestOptions = {}): BacktestResult {
  const cfg = resolveConfig(config);
  checkSignals(market, signals);
  const { symbols, ts, open, high, low, close, sessionEnd } = market;
  const S = symbols.length;
  const T = ts.length;
  if (open.length !== T * S || high.length !== T * S || low.length !== T * S || close.length !== T * S || sessionEnd.length !== T) {
    throw new DataError(`market arrays do not match ${T} bars x ${S} symbols`, { value: { open: open.length, close: close.length, sessionEnd: sessionEnd.length } });
  }
  const classes = symbols.map((sym) => symbolClass(cfg, sym));
  const rules = INSTRUMENT_CLASSES.map((c) => classRules(cfg, c));
  const cls = Uint8Array.from(classes, (c) => INSTRUMENT_CLASSES.indexOf(c));
  const lev = Float64Array.from(cls, (c) => rules[c].leverageMultiplier);
  const lot = Float64Array.from(cls, (c) => rules[c].lot);
  const longOnly = Uint8Array.from(cls, (c) => (rules[c].longOnly ? 1 : 0));
  const cashOnly = Uint8Array.from(cls, (c) => (rules[c].margin ? 0 : 1));
  const grossIn = Float64Array.from(rules, (r) => r.grossIntraday);
  const grossClose = Float64Array.from(rules, (r) => r.grossAtClose);
  const closeCap = Uint8Array.from(rules, (r) => (r.grossAtClose < r.grossIntraday ? 1 : 0));
  const costs = {
    fee: Float64Array.from(cls, (c) => rules[c].feeBps / 1e4),
    fixedFee: Float64Array.from(cls, (c) => rules[c].fixedFee),
    slippage: Float64Array.from(cls, (c) => rules[c].slippageBps / 1e4),
  };
  const perps = [...cls.keys()].filter((s) => classes[s] === 'perp');
  const funding = prepareFunding(options.funding ?? {}, symbols, classes);

  const ppy = cfg.periodsPerYear ?? periodsPerYearOf(medianBarMs(ts), classes.every((c) => c === 'stock') ? 'usEquity' : '24x7');
  const sizing = cfg.sizing.kind === 'regime' ? cfg.sizing.base : cfg.sizing;
  const sizingKind = sizing.kind === 'kelly' ? KELLY : sizing.kind === 'targetWeight' ? TARGET_WEIGHT : VOL_TARGET;
  const kellyFraction = sizing.kind === 'kelly' ? sizing.fraction : 0;
  const weight = sizing.kind === 'targetWeight' ? sizing.weight : sizing.kind === 'volTarget' ? sizing.annualVol / Math.sqrt(ppy / signals.horizonBars) : 0;
  const followSign = sizing.kind !== 'kelly' && sizing.direction === 'signal';
  const regimeMult =
    cfg.sizing.kind === 'regime' ? Float64Array.of(cfg.sizing.multipliers.trend, cfg.sizing.multipliers.chop, cfg.sizing.multipliers.highVol, cfg.sizing.multipliers.shock) : null;
  if (regimeMult && !signals.regime) throw new ConfigError('regime sizing needs signals.regime labels (see classifyMarketRegimes)', { key: 'sizing.kind', value: 'regime' });
  const regime = signals.regime ?? new Uint8Array(0);
  const rule = cfg.rule;
  const entryExit = rule.kind === 'entryExit';
  if (entryExit && !signals.entry) throw new ConfigError('rule entryExit needs signals.entry flags', { key: 'rule.kind', value: 'entryExit' });
  const entry = signals.entry ?? new Int8Array(0);
  const horizon = rule.kind === 'entryExit' ? rule.horizonBars : 0;
  const stopLoss = rule.kind === 'entryExit' && rule.stopLoss !== null ? rule.stopLoss : 0;
  const score = signals.score;
  const { mu, sigma } = signals;
  const sigmaFloor = cfg.sigmaFloor;
  const capPerSymbol = cfg.limits.perSymbolCap;
  const fillAtClose = cfg.fill === 'close';
  const firstBar = signals.firstBar ?? 0;
  const valid = signals.valid ?? null;
  const borrowRate = cfg.interest.borrowRateAnnual;
  const cashRate = cfg.interest.cashRateAnnual;
  const ks = cfg.killSwitches;

  const ledger = new Ledger(cfg.capital, symbols, costs, ts);
  const q = ledger.qty;
  const lastPx = new Float64Array(S).fill(NaN);
  const target = new Float64Array(S);
  const order = new Float64Array(S);
  const orderReason = new Uint8Array(S);
  const pending = new Float64Array(S);
  const pendingReason = new Uint8Array(S);
  const pendingDecision = new Int32Array(S);
  const pendingEquity = new Float64Array(S);
  const grossSum = new Float64Array(INSTRUMENT_CLASSES.length);
  const scale = new Float64Array(INSTRUMENT_CLASSES.length);
  const counts = new Float64Array(LIMIT_NAMES.length);
  const bySymbol = new Float64Array(LIMIT_NAMES.length * S);
  const bindingMask = new Uint8Array(T);
  const missingQuotes = new Array<number>(S).fill(0);
  const noForecast = new Array<number>(S).fill(0);
  const equityOut = new Float64Array(T);
  const cashOut = new Float64Array(T);
  const grossOut = new Float64Array(T);
  const positions = options.recordPositions === false ? null : new Float64Array(T * S);
  const decisions = options.recordDecisions ? new Float64Array(T * S).fill(NaN) : null;
  const killEvents: KillEvent[] = [];
  let nPending = 0;
  let cancelledOrders = 0;
  let cashCutAtFill = 0;
  let equity = cfg.capital;
  let peak = equity;
  let dayStart = equity;
  let active = true;
  let stoppedAt: number | null = null;
  let pausedUntil = -Infinity;
  let pausedRestOfDay = false;
  let flatten = false;
  let lastEvent: KillEvent | null = null;
  const tradedPerps = new Set<number>();

  const trigger = (name: KillSwitchName, t: number, value: number, threshold: number, action: KillAction, symbol?: string): void => {
    lastEvent = { switch: name, bar: t, time: ts[t], value, threshold, action, resumeTime: null, ...(symbol ? { symbol } : {}) };
    killEvents.push(lastEvent);
    flatten = true;
    if (action.kind === 'stop') {
      active = false;
      stoppedAt = ts[t];
    } else if (action.kind === 'pause') pausedUntil = ts[t] + action.minutes * 60_000;
    else pausedRestOfDay = true;
  };
  const trueCash = (): number => {
    // Perpetual positions are margin, not cash spent: add their notional back to see what is borrowed.
    let c = ledger.cash;
    for (const s of perps) if (q[s] !== 0) c += q[s] * lastPx[s];
    return c;
  };
  const limitHit = (limit: number, s: number, t: number): void => {
    counts[limit]++;
    bySymbol[limit * S + s]++;
    bindingMask[t] |= 1 << limit;
  };

  for (let t = 0; t < T; t++) {
    const base = t * S;
    const time = ts[t];
    // 1. Time passes: interest and funding on what was held over (ts[t-1], ts[t]].
    if (t > 0) {
      const dt = time - ts[t - 1];
      if (borrowRate > 0 || cashRate > 0) {
        const c = perps.length > 0 ? trueCash() : ledger.cash;
        const interest = c < 0 ? (-c * borrowRate * dt) / YEAR_MS : (-c * cashRate * dt) / YEAR_MS;
        if (interest !== 0) ledger.payInterest(interest);
      }
      for (const f of funding) {
        while (f.next < f.ts.length && f.ts[f.next] <= time) {
          const k = f.next++;
          if (f.ts[k] <= ts[t - 1]) continue;
          const s = f.symbol;
          const rate = f.rate[k];
          if (q[s] !== 0) {
            const o = open[base + s];
            ledger.payFunding(s, q[s] * (o > 0 ? o : lastPx[s]) * rate);
          }
          if (ks.fundingSpike && active && !flatten && isTrading(time) && Math.abs(rate) > ks.fundingSpike.absRate) {
            trigger('fundingSpike', t, rate, ks.fundingSpike.absRate, ks.fundingSpike.action, symbols[s]);
          }
        }
      }
    }
    // 2. Orders decided at t-1 fill at this bar's open.
    if (nPending > 0) {
      for (let pass = 0; pass < 2; pass++) {
        for (let s = 0; s < S; s++) {
          let d = pending[s];
          if (d === 0 || (pass === 0) !== d < 0) continue;
          pending[s] = 0;
          nPending--;
          const o = open[base + s];
          if (!(o > 0)) {
            if (o <= 0) throw new DataError('price must be positive', { symbol: symbols[s], row: t, column: 'open', value: o });
            cancelledOrders++;
            continue;
          }
          if (d > 0 && cashOnly[s]) {
            const capped = cashLimitedBuy(d, o, s, trueCash());
            if (capped !== d) cashCutAtFill++;
            if (capped === 0) continue;
            d = capped;
          }
          ledger.fill(s, d, o, t, pendingReason[s], pendingEquity[s], pendingDecision[s], score ? score[pendingDecision[s] * S + s] : NaN);
          if (classes[s] === 'perp') tradedPerps.add(s);
        }
      }
      nPending = 0;
    }
    // 3. Stops, on this bar's range.
    if (stopLoss > 0) {
      for (let s = 0; s < S; s++) {
        const qs = q[s];
        if (qs === 0) continue;
        const entryBar = ledger.openEntryBar(s);
        if (entryBar > t || (entryBar === t && fillAtClose)) continue;
        const entryPx = ledger.openEntryPrice(s);
        const o = open[base + s];
        if (qs > 0) {
          const stop = entryPx * (1 - stopLoss);
          if (low[base + s] <= stop) ledger.fill(s, -qs, o <= stop ? o : stop, t, REASON.stop, equity, t, NaN);
        } else {
          const stop = entryPx * (1 + stopLoss);
          if (high[base + s] >= stop) ledger.fill(s, -qs, o >= stop ? o : stop, t, REASON.stop, equity, t, NaN);
        }
      }
    }
    // 4. Mark at the close; kill switches.
    let value = 0;
    for (let s = 0; s < S; s++) {
      const c = close[base + s];
      if (c === c) {
        if (!(c > 0)) throw new DataError('price must be positive', { symbol: symbols[s], row: t, column: 'close', value: c });
        lastPx[s] = c;
      } else missingQuotes[s]++;
      if (q[s] !== 0) value += q[s] * lastPx[s];
    }
    equity = ledger.cash + value;
    if (active) {
      if (pausedUntil !== -Infinity && time >= pausedUntil) resume(t);
      if (pausedRestOfDay && t > 0 && sessionEnd[t - 1] === 1) resume(t);
      if (equity <= 0) trigger('ruin', t, equity, 0, { kind: 'stop' });
      else if (isTrading(time) && !flatten) {
        if (equity > peak) peak = equity;
        const dd = 1 - equity / peak;
        const dayLoss = 1 - equity / dayStart;
        if (ks.maxDrawdown && dd >= ks.maxDrawdown.threshold) trigger('maxDrawdown', t, dd, ks.maxDrawdown.threshold, ks.maxDrawdown.action);
        else if (ks.dailyLoss && dayLoss >= ks.dailyLoss.threshold) trigger('dailyLoss', t, dayLoss, ks.dailyLoss.threshold, ks.dailyLoss.action);
        else if (ks.consecutiveLosses && ledger.losingStreak >= ks.consecutiveLosses.count) {
          trigger('consecutiveLosses', t, ledger.losingStreak, ks.consecutiveLosses.count, ks.consecutiveLosses.action);
          ledger.losingStreak = 0;
        }
      }
    }
    // 5. Decide.
    const closeBar = sessionEnd[t] === 1;
    let nOrders = 0;
    if (flatten || !active || !isTrading(time)) {
      for (let s = 0; s < S; s++) {
        order[s] = 0;
        if (q[s] !== 0 && close[base + s] === close[base + s]) {
          order[s] = -q[s];
          orderReason[s] = REASON.killSwitch;
          nOrders++;
        }
        if (decisions) decisions[base + s] = close[base + s] === close[base + s] ? 0 : NaN;
      }
      flatten = false;
    } else if (t >= firstBar) {
      grossSum.fill(0);
      for (let s = 0; s < S; s++) {
        const idx = base + s;
        const c = close[idx];
        orderReason[s] = REASON.signal;
        if (c !== c) {
          target[s] = NaN;
          continue;
        }
        let f: number;
        if (entryExit && q[s] !== 0) {
          if (t - ledger.openDecisionBar(s) >= horizon) {
            f = 0;
            orderReason[s] = REASON.horizon;
          } else f = (q[s] * c) / equity;
        } else if (entryExit && entry[idx] === 0) {
          f = 0;
        } else {
          if (valid !== null && valid[idx] === 0) {
            // No forecast here: no decision, the position is held (counted).
            noForecast[s]++;
            target[s] = NaN;
            continue;
          }
          const m = mu[idx];
          let sg = sigma[idx];
          if (!(m > -Infinity && m < Infinity) || !(sg >= 0 && sg < Infinity)) {
            throw new DataError('forecast is NaN, infinite or has negative sigma', { symbol: symbols[s], row: t, column: m === m ? 'sigma' : 'mu', value: m === m ? sg : m });
          }
          if (sg < sigmaFloor) sg = sigmaFloor;
          if (sizingKind === KELLY) f = (kellyFraction * m) / (sg * sg);
          else if (sizingKind === TARGET_WEIGHT) f = followSign ? weight * Math.sign(m) : weight;
          else f = (followSign ? Math.sign(m) : 1) * (weight / sg);
          if (regimeMult !== null) f *= regimeMult[regime[idx]];
          f *= lev[s];
          // An entry flag says the direction; a sizing that disagrees means no entry.
          if (entryExit && f * entry[idx] <= 0) f = 0;
        }
        if (f > capPerSymbol || f < -capPerSymbol) {
          f = f > 0 ? capPerSymbol : -capPerSymbol;
          limitHit(L_CAP, s, t);
        }
        target[s] = f;
        grossSum[cls[s]] += f < 0 ? -f : f;
      }
      for (let c = 0; c < scale.length; c++) {
        const cap = closeBar ? grossClose[c] : grossIn[c];
        scale[c] = grossSum[c] > cap * (1 + 1e-12) ? cap / grossSum[c] : 1;
      }
      let sellCash = 0;
      for (let s = 0; s < S; s++) {
        order[s] = 0;
        let f = target[s];
        if (f !== f) continue;
        const c = close[base + s];
        const k = scale[cls[s]];
        if (k !== 1 && f !== 0) {
          f *= k;
          limitHit(closeBar && closeCap[cls[s]] ? L_GROSS_CLOSE : L_GROSS, s, t);
        }
        if (f < 0 && longOnly[s]) {
          f = 0;
          limitHit(L_LONG, s, t);
        }
        const qs = q[s];
        // A held entryExit position stays as it is unless a limit changed its weight.
        const held = entryExit && qs !== 0 && orderReason[s] === REASON.signal && f === (qs * c) / equity;
        const tq = held ? qs : roundToLot((f * equity) / c, lot[s]);
        if (decisions) decisions[base + s] = tq;
        const d = tq - qs;
        if (d === 0) continue;
        if (tq !== 0 && (d < 0 ? -d : d) * c < Math.max(cfg.limits.minTradeNotional, cfg.limits.minTradeFraction * equity)) {
          limitHit(L_MIN, s, t);
          continue;
        }
        order[s] = d;
        nOrders++;
        if (d < 0 && classes[s] !== 'perp') sellCash -= d * c * (1 - costs.slippage[s]) * (1 - costs.fee[s]);
      }
      // Cash-only classes buy with cash on hand, after the bar's sells.
      let available = Number.NaN;
      for (let s = 0; s < S; s++) {
        const d = order[s];
        if (!(d > 0) || !cashOnly[s]) continue;
        if (available !== available) available = trueCash() + sellCash;
        const c = close[base + s];
        const capped = cashLimitedBuy(d, c, s, available);
        if (capped !== d) {
          limitHit(L_CASH, s, t);
          if (capped === 0 || capped * c < Math.max(cfg.limits.minTradeNotional, cfg.limits.minTradeFraction * equity)) {
            order[s] = 0;
            nOrders--;
            if (decisions) decisions[base + s] = q[s];
            continue;
          }
          order[s] = capped;
          if (decisions) decisions[base + s] = q[s] + capped;
        }
        available -= capped * c * (1 + costs.slippage[s]) * (1 + costs.fee[s]) + costs.fixedFee[s];
      }
    }
    // Dispatch: now (at the close) or at the next open.
    if (nOrders > 0) {
      let filledNow = false;
      for (let pass = 0; pass < 2; pass++) {
        for (let s = 0; s < S; s++) {
          const d = order[s];
          if (d === 0 || (pass === 0) !== d < 0) continue;
          const sc = score ? score[base + s] : NaN;
          if (fillAtClose || (closeBar && closeCap[cls[s]])) {
            ledger.fill(s, d, close[base + s], t, orderReason[s], equity, t, sc);
            if (classes[s] === 'perp') tradedPerps.add(s);
            filledNow = true;
          } else if (t + 1 < T) {
            pending[s] = d;
            pendingReason[s] = orderReason[s];
            pendingDecision[s] = t;
            pendingEquity[s] = equity;
            nPending++;
          }
        }
      }
      if (filledNow) {
        value = 0;
        for (let s = 0; s < S; s++) if (q[s] !== 0) value += q[s] * lastPx[s];
        equity = ledger.cash + value;
      }
    }
    let gross = 0;
    for (let s = 0; s < S; s++) {
      const v = q[s] * lastPx[s];
      if (q[s] !== 0) gross += v < 0 ? -v : v;
      if (positions) positions[base + s] = q[s];
    }
    equityOut[t] = equity;
    cashOut[t] = ledger.cash;
    grossOut[t] = gross;
    if (closeBar) dayStart = equity;
  }
  ledger.markOpenTrades(T - 1, lastPx);

  function isTrading(time: number): boolean {
    return active && !pausedRestOfDay && time >= pausedUntil;
  }
  function resume(t: number): void {
    pausedUntil = -Infinity;
    pausedRestOfDay = false;
    // After a pause the drawdown is measured from where trading resumed, or it would fire again at once.
    peak = equity;
    ledger.losingStreak = 0;
    if (lastEvent) lastEvent.resumeTime = ts[t];
  }
  function cashLimitedBuy(d: number, px: number, s: number, available: number): number {
    const unit = px * (1 + costs.slippage[s]) * (1 + costs.fee[s]);
    if (d * unit + costs.fixedFee[s] <= available) return d;
    return Math.max(0, roundToLot((available - costs.fixedFee[s]) / unit, lot[s]));
  }

  const countsRecord = Object.fromEntries(LIMIT_NAMES.map((n, i) => [n, counts[i]])) as Record<LimitName, number>;
  const bySymbolRecord = Object.fromEntries(LIMIT_NAMES.map((n, i) => [n, Array.from(bySymbol.subarray(i * S, (i + 1) * S))])) as Record<LimitName, number[]>;
  return {
    config: cfg,
    symbols,
    classes,
    ts,
    equity: equityOut,
    cash: cashOut,
    grossExposure: grossOut,
    positions,
    decisions,
    trades: ledger.trades,
    limits: { counts: countsRecord, bySymbol: bySymbolRecord, bindingMask },
    costs: { fees: ledger.feesPaid, slippage: ledger.slippagePaid, interest: ledger.interestPaid, funding: ledger.fundingPaid, tradedNotional: ledger.tradedNotional },
    killEvents,
    stoppedAt,
    fallbacks: {
      missingQuotes,
      noForecast,
      cancelledOrders,
      cashCutAtFill,
      perpsWithoutFunding: [...tradedPerps].sort((a, b) => a - b).filter((s) => !funding.some((f) => f.symbol === s)).map((s) => symbols[s]),
    },
    periodsPerYear: ppy,
    lookAhead: signals.lookAhead === true,
  };
}

/**
 * Rounds a quantity toward zero to a multiple of `lot`.
 * The tiny nudge keeps 0.3 / 0.1 (2.9999999999999996 in binary) from losing a whole lot.
 * @example roundToLot(1.2349, 0.001); // 1.234
 */
export function roundToLot(quantity: number, lot: number): number {
  const units = quantity / lot;
  const whole = units > 0 ? Math.floor(units + 1e-9) : -Math.floor(-units + 1e-9);
  return whole === 0 ? 0 : whole * lot;
}
