/**
 * `--config` given a best sampler configuration (`configs/best/<SYMBOL>.json`, schema
 * `quantbook.sampler-config/1`, written by notebooks/05-sweep): `forecast`, `eval` and
 * `backtest` tell it from their own config files by its content (the `schema` tag), not by
 * its name, and take its chosen sampler setting and model. What a command cannot honour
 * (the ensemble; a point aggregate where none is used) comes back as a note to print.
 */
import { resolve } from 'node:path';
import { isBestConfig, parseBestConfig, type BestConfig, type BestSetting } from '../forecast/bestConfig';
import type { ForecastConfig } from './forecastConfig';

/** The repository root: a best config's model card is relative to it. */
const REPO_ROOT = resolve(__dirname, '..', '..');

/** A best configuration as a command uses it. */
export interface BestConfigUse {
  file: string;
  config: BestConfig;
  /** The chosen setting: samples, aggregation, lookback, temperature, top-p. */
  setting: BestSetting;
  /** Its model card, resolved against the repository root. */
  model: string;
}

/**
 * The best configuration in a parsed config file, or null when the file is another kind of
 * config (no `schema: quantbook.sampler-config/1`).
 * @param raw - the file's content, parsed (YAML or JSON).
 * @throws ConfigError (from `parseBestConfig`) when it has the tag but does not match the schema.
 * @example bestConfigFrom(readConfigFile('configs/best/SYNA.json'), 'configs/best/SYNA.json')?.setting.samples // 128
 */
export function bestConfigFrom(raw: unknown, file: string): BestConfigUse | null {
  if (!isBestConfig(raw)) return null;
  const config = parseBestConfig(raw, file);
  return { file, config, setting: config.setting, model: resolve(REPO_ROOT, config.model) };
}

/**
 * The keys of `quantbook forecast`'s config that a best configuration sets: model, samples,
 * lookback, temperature, top-p (its aggregate has no counterpart in the outlook: see
 * `bestConfigNotes`).
 * @example forecastConfigFromBest(use).top_p // 1
 */
export function forecastConfigFromBest(use: BestConfigUse): ForecastConfig {
  const s = use.setting;
  return { model: use.model, samples: s.samples, lookback: s.lookback, temperature: s.temperature, top_p: s.topP };
}

/** The setting in words, e.g. `128 paths, median, lookback 128, temperature 1, top-p 1`. */
export function settingText(s: BestSetting): string {
  return `${s.samples} paths, ${s.aggregation}, lookback ${s.lookback}, temperature ${s.temperature}, top-p ${s.topP}`;
}

/**
 * The notes a command prints when it runs a best configuration: which setting it took, that
 * its ensemble is not used (when it has more than one member, or its one member differs from
 * the chosen setting), and a horizon other than the one the setting was chosen for.
 * @param command - e.g. `quantbook eval`.
 * @example bestConfigNotes(use, 'quantbook eval', 30)[0] // 'configs/best/SYNA.json: runs the chosen setting (128 paths, median, ...)'
 */
export function bestConfigNotes(use: BestConfigUse, command: string, horizon: number): string[] {
  const notes = [`${use.file}: ${command} runs its chosen setting (${settingText(use.setting)}) with ${use.config.model}`];
  const members = use.config.ensemble.members;
  const onlyChosen = members.length === 1 && settingText(members[0].setting) === settingText(use.setting);
  if (!onlyChosen) {
    notes.push(`${use.file}: its ensemble of ${members.length} settings (${use.config.ensemble.weighting}) is not used: ${command} runs one setting per forecast, not a weighted mean of several`);
  }
  if (horizon !== use.config.horizon) notes.push(`${use.file}: the setting was chosen for horizon ${use.config.horizon}, this run forecasts ${horizon} bars ahead`);
  return notes;
}
