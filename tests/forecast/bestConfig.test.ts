import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bestConfigFromSweep, bestConfigText, isBestConfig, parseBestConfig, readBestConfig, writeBestConfig, writeBestConfigs, type BestConfig, type SweepProvenance,
} from '../../src/forecast/bestConfig';
import { bestPerSymbol, inverseErrorEnsemble, type SamplerSearchResult, type SettingResult, type WindowScores } from '../../src/forecast/samplerSearch';
import { ConfigError } from '../../src/core/errors';
import { thrownBy } from '../support/errors';
import { REPO_ROOT } from '../support/paths';

const BEST = join(REPO_ROOT, 'configs', 'best');

describe('configs/best/<SYMBOL>.json', () => {
  it('reads every shipped file, and writes it back byte for byte', () => {
    const files = readdirSync(BEST).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(['SYNA.json', 'SYNB.json', 'SYNC.json']);
    for (const f of files) {
      const text = readFileSync(join(BEST, f), 'utf8');
      const cfg = readBestConfig(join(BEST, f));
      expect(cfg.symbol).toBe(f.replace('.json', ''));
      expect(cfg.ensemble.members.reduce((a, m) => a + m.weight, 0)).toBeCloseTo(1, 12);
      expect(bestConfigText(JSON.parse(text))).toBe(text);
      const out = join(mkdtempSync(join(tmpdir(), 'qb-best-')), f);
      writeBestConfig(out, cfg);
      expect(readFileSync(out, 'utf8')).toBe(text);
    }
  });

  it('names the file and key of what is wrong', () => {
    const good = JSON.parse(readFileSync(join(BEST, 'SYNA.json'), 'utf8'));
    expect(isBestConfig(good)).toBe(true);
    expect(isBestConfig({ sizing: { kind: 'kelly' } })).toBe(false);
    const bad = { ...good, setting: { ...good.setting, topP: 1.5 } };
    const e = thrownBy(() => parseBestConfig(bad, 'x.json'), ConfigError);
    expect(e.message).toMatch(/x\.json/);
    expect(e.message).toMatch(/setting\.topP/);
    const weights = { ...good, ensemble: { ...good.ensemble, members: good.ensemble.members.slice(1) } };
    expect(() => parseBestConfig(weights, 'w.json')).toThrow(/weights sum to 0\.79/);
    expect(() => readBestConfig(join(BEST, 'NOPE.json'))).toThrow(/cannot be read/);
  });
});

describe('bestConfigFromSweep', () => {
  /** The search results a shipped file was chosen from, as far as the file tells them (its ensemble members). */
  const n = (x: number | null): number => x ?? NaN;
  const scoresOf = (w: BestConfig['scores']['test']): WindowScores => ({ n: w.n, pctReturnMae: n(w.pctReturnMae), pctReturnMaeSe: n(w.pctReturnMaeSe), crps: n(w.crps), wcrps: n(w.wcrps) });
  const maeOf = (m: BestConfig['ensemble']['test']) => ({ pctReturnMae: n(m.pctReturnMae), pctReturnMaeSe: n(m.pctReturnMaeSe) });
  function searchOf(cfg: BestConfig): SamplerSearchResult {
    const realized = { validation: Float64Array.of(0.01, -0.02), test: Float64Array.of(0.005, 0) };
    const results: SettingResult[] = cfg.ensemble.members.map((m, k) => ({
      symbol: cfg.symbol, setting: m.setting, latencyMs: 100 + k,
      validation: k === 0 ? scoresOf(cfg.scores.validation) : { ...scoresOf(cfg.scores.validation), pctReturnMae: n(m.validationPctReturnMae) },
      test: scoresOf(cfg.scores.test),
      predicted: { validation: Float64Array.of(0.01 + k * 1e-3, -0.01), test: Float64Array.of(0, 0.001 * k) },
    }));
    return { results, realized: { [cfg.symbol]: realized }, skipped: { [cfg.symbol]: 0 }, horizon: cfg.horizon };
  }
  const provenanceOf = (cfg: BestConfig): SweepProvenance => {
    const g = cfg.grid;
    const grid = { samples: [g.samples].flat(), aggregations: [g.aggregations].flat(), lookbacks: [g.lookbacks].flat(),
      temperatures: [g.temperatures].flat(), topPs: [g.topPs].flat() };
    return { model: cfg.model, horizon: cfg.horizon, data: cfg.data, grid, seed: cfg.seed, generatedBy: cfg.generatedBy };
  };

  it('builds the shipped files byte for byte from the best setting, its ensemble and where they came from', () => {
    for (const f of ['SYNA.json', 'SYNB.json', 'SYNC.json']) {
      const text = readFileSync(join(BEST, f), 'utf8');
      const cfg = readBestConfig(join(BEST, f));
      const search = searchOf(cfg);
      const best = bestPerSymbol(search.results).get(cfg.symbol)!;
      expect(best.setting).toEqual(cfg.setting);
      // The ensemble as the search computes it (same members and weights as the file; its scores from the fake predictions).
      const ensemble = inverseErrorEnsemble(search, cfg.symbol, cfg.ensemble.members.length);
      expect(ensemble.members.map((m) => m.weight)).toEqual(cfg.ensemble.members.map((m) => m.weight));
      const built = bestConfigFromSweep(best, { ...ensemble, validation: maeOf(cfg.ensemble.validation), test: maeOf(cfg.ensemble.test) }, provenanceOf(cfg));
      expect(bestConfigText(built)).toBe(text);
      // Latency is not in the file; the ensemble's own scores are.
      expect(JSON.stringify(built)).not.toMatch(/latencyMs/);
      expect(best.latencyMs).toBe(100);
      const own = bestConfigFromSweep(best, ensemble, provenanceOf(cfg));
      expect(own.ensemble.validation.pctReturnMae).toBeCloseTo(ensemble.validation.pctReturnMae, 15);
      expect(own.ensemble.validation).not.toEqual(cfg.ensemble.validation);
    }
  });

  it('refuses an ensemble of another symbol and a result off the schema; writes <dir>/<symbol>.json', () => {
    const cfg = readBestConfig(join(BEST, 'SYNA.json'));
    const search = searchOf(cfg);
    const best = search.results[0];
    const ensemble = inverseErrorEnsemble(search, cfg.symbol, 2);
    const e = thrownBy(() => bestConfigFromSweep(best, { ...ensemble, symbol: 'SYNB' }, provenanceOf(cfg)), ConfigError);
    expect(e.message).toMatch(/ensemble is of SYNB, the best setting of SYNA/);
    expect(() => bestConfigFromSweep(best, ensemble, { ...provenanceOf(cfg), horizon: 0 })).toThrow(/horizon/);
    const dir = join(mkdtempSync(join(tmpdir(), 'qb-best-')), 'nested');
    const written = writeBestConfigs(dir, [cfg, { ...cfg, symbol: 'OTHER' }]);
    expect(written).toEqual([join(dir, 'SYNA.json'), join(dir, 'OTHER.json')]);
    expect(readFileSync(written[0], 'utf8')).toBe(readFileSync(join(BEST, 'SYNA.json'), 'utf8'));
    expect(readBestConfig(written[1]).symbol).toBe('OTHER');
    expect(() => writeBestConfigs(dir, [{ ...cfg, symbol: '../x' }])).toThrow(ConfigError);
  });
});
