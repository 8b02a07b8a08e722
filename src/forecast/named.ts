/**
 * Forecasters selectable by a bare name (CLI `--model` / `--forecaster` / `--compare`,
 * `openModel`, fallbacks): the baselines and the volatility models.
 */
import { ConfigError } from '../core/errors';
import { BASELINE_NAMES, BaselineForecaster, createBaseline } from './baselines';
import { VOLATILITY_NAMES, VolatilityForecaster, createVolatilityForecaster } from './volatilityForecaster';

/** Every name `createNamedForecaster` accepts: naive, trend, historical, oracle, ewma, garch, gjr-garch. */
export const FORECASTER_NAMES = [...BASELINE_NAMES, ...VOLATILITY_NAMES] as const;
export type ForecasterName = (typeof FORECASTER_NAMES)[number];

/**
 * A baseline or volatility forecaster by name.
 * @throws ConfigError on an unknown name (the message lists the names).
 * @example createNamedForecaster('garch', { lookback: 512 }).info.name // 'garch'
 */
export function createNamedForecaster(name: string, opts: { lookback?: number; maxHorizon?: number } = {}): BaselineForecaster | VolatilityForecaster {
  if ((VOLATILITY_NAMES as readonly string[]).includes(name)) return createVolatilityForecaster(name, opts);
  if ((BASELINE_NAMES as readonly string[]).includes(name)) return createBaseline(name, opts);
  throw new ConfigError(`unknown model or baseline "${name}": give a model card (.json) or one of ${FORECASTER_NAMES.join(', ')}`, { key: 'model', value: name });
}
