import { describe, expect, it } from 'vitest';
import { classRules, resolveConfig, symbolClass } from '../../src/backtest/config';
import { ConfigError } from '../../src/core/errors';

describe('backtest config', () => {
  it('fills the documented defaults', () => {
    const c = resolveConfig();
    expect(c.sizing).toEqual({ kind: 'kelly', fraction: 0.5 });
    expect(c.limits).toEqual({ perSymbolCap: 0.6, minTradeNotional: 0, minTradeFraction: 0.005 });
    expect(c.interest.borrowRateAnnual).toBe(0.065);
    expect(c.killSwitches.maxDrawdown).toEqual({ threshold: 0.15, action: { kind: 'stop' }, peakReset: 'afterOwnPause' });
    expect(c.killSwitches.dailyLoss?.threshold).toBe(0.03);
    expect(c.killSwitches.consecutiveLosses?.count).toBe(5);
    expect(c.killSwitches.fundingSpike?.absRate).toBe(0.01);
    expect(c.fill).toBe('nextOpen');
    expect(c.sigmaFloor).toBe(0.005);
    expect(classRules(c, 'stock')).toMatchObject({ leverageMultiplier: 4, grossIntraday: 4, grossAtClose: 2, lot: 1 });
    expect(classRules(c, 'crypto')).toMatchObject({ leverageMultiplier: 1, grossIntraday: 1, longOnly: true, lot: 0.001, margin: false });
  });

  it('fills regime multipliers and merges class overrides over the defaults', () => {
    const c = resolveConfig({ sizing: { kind: 'regime', base: { kind: 'targetWeight', weight: 0.2 } }, classes: { stock: { grossAtClose: 1.5 } } });
    expect(c.sizing).toEqual({ kind: 'regime', base: { kind: 'targetWeight', weight: 0.2, direction: 'long' }, multipliers: { trend: 1, chop: 0.3, highVol: 0.5, shock: 0 } });
    expect(classRules(c, 'stock').grossAtClose).toBe(1.5);
    expect(classRules(c, 'stock').grossIntraday).toBe(4);
  });

  it.each([
    [{ classes: { stock: { grossAtClose: 5 } } }, /contradictory limits.*key "classes.stock.grossAtClose"/],
    [{ classes: { crypto: { grossIntraday: 2, grossAtClose: 1 } } }, /without margin.*key "classes.crypto.grossIntraday"/],
    [{ limits: { minTradeFraction: 0.6 } }, /no order could ever be placed.*key "limits.minTradeFraction"/],
    [{ defaultClass: 'crypto', sizing: { kind: 'targetWeight', weight: -0.2 } }, /negative target weight with long-only class crypto/],
    [{ instruments: { AAPL: 'equity' } }, /unknown instrument class "equity".*key "instruments.AAPL"/],
    [{ sizing: { kind: 'optimal-f' } }, /invalid backtest config.*key "sizing.kind"/],
    [{ limts: {} }, /invalid backtest config/],
    [{ killSwitches: { maxDrawdown: { threshold: 1.5 } } }, /key "killSwitches.maxDrawdown.threshold"/],
  ])('rejects %j', (input, message) => {
    expect(() => resolveConfig(input, 'cfg.yaml')).toThrow(ConfigError);
    expect(() => resolveConfig(input, 'cfg.yaml')).toThrow(message);
  });

  it('gives each symbol its class or says that it has none', () => {
    const c = resolveConfig({ instruments: { AAPL: 'stock' }, defaultClass: null });
    expect(symbolClass(c, 'AAPL')).toBe('stock');
    expect(() => symbolClass(c, 'MSFT')).toThrow(/symbol MSFT has no instrument class/);
  });
});
