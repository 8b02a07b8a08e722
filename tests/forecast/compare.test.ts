import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { loadGridSeries, runEval, runEvalCompare } from '../../src/cli/eval';
import { compareForecasters, hacMeanSe } from '../../src/forecast/compare';
import { EnsembleForecaster, inverseScoreWeights, parseEnsembleSpec, pathCounts, validationWeights } from '../../src/forecast/ensemble';
import { createNamedForecaster } from '../../src/forecast/named';
import { openModel } from '../../src/forecast/openModel';
import { thrownBy } from '../support/errors';
import { realData } from '../support/paths';

const ETH = realData('crypto-5m', 'ETH_BTC-5m.feather');

describe('HAC standard errors', () => {
  it('lag 0 is the iid standard error (ddof 0); lag 1 adds the Bartlett-weighted autocovariance', () => {
    const x = Float64Array.of(1, 2, 3, 4);
    expect(hacMeanSe([x], 0)).toEqual({ mean: 2.5, se: Math.sqrt(1.25 / 4) });
    // e = [-1.5, -0.5, 0.5, 1.5]; sum e_t e_{t-1} = 0.75 - 0.25 + 0.75 = 1.25; V = (5 + 2 * 0.5 * 1.25) / 4
    expect(hacMeanSe([x], 1).se).toBeCloseTo(Math.sqrt((5 + 1.25) / 4 / 4), 14);
    // autocovariances never cross series
    expect(hacMeanSe([Float64Array.of(1, 2), Float64Array.of(3, 4)], 1).se).toBeCloseTo(Math.sqrt((5 + 2 * 0.5 * (0.75 + 0.75)) / 4 / 4), 14);
  });
});

describe('ensembles', () => {
  const series = loadGridSeries(ETH)[0].closes;
  const window = series.subarray(1000, 1512);

  it('quantile averaging is the weighted mean of the members quantiles; mixtures take paths by weight', async () => {
    const a = createNamedForecaster('naive');
    const b = createNamedForecaster('ewma');
    const req = { context: window, horizon: 4, samples: 10, seed: 2, quantileLevels: [0.1, 0.5, 0.9] };
    const [fa, fb] = [await a.forecast(req), await b.forecast(req)];
    const e = await new EnsembleForecaster([a, b], { weights: [3, 1] }).forecast(req);
    for (let i = 0; i < 12; i++) expect(e.quantiles!.values.data[i]).toBeCloseTo(0.75 * fa.quantiles!.values.data[i] + 0.25 * fb.quantiles!.values.data[i], 12);
    expect(pathCounts([0.75, 0.25], 10)).toEqual([8, 2]);
    expect(Array.from(e.samples!.data.subarray(0, 8 * 4))).toEqual(Array.from(fa.samples!.data.subarray(0, 8 * 4)));
    expect(Array.from(e.samples!.data.subarray(8 * 4))).toEqual(Array.from(fb.samples!.data.subarray(0, 2 * 4)));
    const m = await new EnsembleForecaster([a, b], { weights: [3, 1], mode: 'mixture' }).forecast(req);
    expect(m.meta.model).toBe('mixture:naive*0.75+ewma*0.25');
    // mixture quantiles are those of the mixed paths: the median lies between the members' medians
    const med = m.quantiles!.values.data[4 + 3];
    expect(med).toBeGreaterThanOrEqual(Math.min(...Array.from(e.samples!.data.filter((_, i) => i % 4 === 3))));
  });

  it('weights from inverse validation scores; specs by name through openModel', async () => {
    expect(inverseScoreWeights([1, 3])).toEqual([0.75, 0.25]);
    expect(thrownBy(() => inverseScoreWeights([1, 0]), ConfigError).message).toMatch(/member 1 has score 0/);
    const members = [createNamedForecaster('naive'), createNamedForecaster('oracle')];
    // the oracle scores 0 CRPS (to rounding): inverse weights refuse it rather than divide by zero
    await expect(validationWeights(members, [series.subarray(0, 900)], { horizon: 3, every: 100, samples: 20 })).rejects.toThrow(/member 1 has score .*: inverse-score weights need finite positive scores/);
    const w = await validationWeights([createNamedForecaster('naive'), createNamedForecaster('historical')], [series.subarray(0, 1400)], { horizon: 3, every: 50, samples: 50, metric: 'pctReturnMae' });
    expect(w[0] + w[1]).toBeCloseTo(1, 12);
    expect(w[0]).toBeGreaterThan(0.3);
    expect(parseEnsembleSpec('ensemble:garch*2+historical')).toEqual({ mode: 'quantiles', members: ['garch', 'historical'], weights: [2, 1] });
    expect(parseEnsembleSpec('garch')).toBeNull();
    const opened = await openModel('mixture:ewma+historical*3');
    expect(opened.info.name).toBe('mixture:ewma*0.25+historical*0.75');
  });
});

describe('leaderboard', () => {
  it('ranks on the same origins, agrees with quantbook eval, and the DM test separates a clearly worse forecaster', async () => {
    const opts = { data: ETH, horizon: 6, every: 200, samples: 50 };
    const { board } = await runEvalCompare({ ...opts, compare: 'naive,oracle,historical' });
    expect(board.rows.map((r) => r.name)[0]).toBe('oracle');
    expect(board.rows[0].dm).toBeNull();
    expect(Math.abs(board.rows[0].crps.mean)).toBeLessThan(1e-15);
    expect(board.hacLag).toBe(0);
    for (const r of board.rows.slice(1)) {
      expect(r.dm!.stat).toBeGreaterThan(3);
      expect(r.dm!.pValue).toBeLessThan(0.01);
      expect(r.crps.se).toBeGreaterThan(0);
    }
    const naive = board.rows.find((r) => r.name === 'naive')!;
    const single = await runEval({ ...opts, model: 'naive' });
    expect(naive.pooled.crps).toBeCloseTo(single.pooled.crps, 15);
    expect(naive.pooled.coverage80).toBe(single.pooled.coverage80);
    expect(naive.crps.mean).toBeCloseTo(single.pooled.crps, 15); // equal steps per origin: the same mean
    expect(naive.crpsByStep).toHaveLength(6);
    expect(naive.crpsByStep[5]).toBeGreaterThan(naive.crpsByStep[0]);
  });

  it('--out writes the HTML page atomically; HAC lag follows overlapping horizons', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-lb-'));
    const out = join(dir, 'board.html');
    const { board, html } = await runEvalCompare({ data: ETH, compare: 'naive,ewma', horizon: 6, every: 300, samples: 20, out });
    expect(existsSync(out)).toBe(true);
    expect(readdirSync(dir)).toEqual(['board.html']);
    expect(readFileSync(out, 'utf8')).toBe(html);
    expect(html!.match(/Plotly\.newPlot\('figure-/g)).toHaveLength(2);
    expect(html).toContain('CRPS per forecast step');
    expect(board.rows).toHaveLength(2);
    const series = loadGridSeries(ETH).map((s) => ({ symbol: s.symbol, closes: s.closes.subarray(0, 900) }));
    const b2 = await compareForecasters([{ name: 'a', forecaster: createNamedForecaster('naive') }, { name: 'b', forecaster: createNamedForecaster('historical') }], series, { horizon: 6, every: 2, samples: 10 });
    expect(b2.hacLag).toBe(2);
    await expect(runEvalCompare({ data: ETH, compare: 'naive', horizon: 3 })).rejects.toThrow(/at least two forecasters/);
    await expect(runEvalCompare({ data: ETH, compare: 'naive,ewma', model: 'naive', horizon: 3 })).rejects.toThrow(/either --model or --compare/);
    await expect(runEval({ data: ETH, model: 'naive', out, horizon: 3 })).rejects.toThrow(/use it with --compare/);
  });
});
