import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random';
import { calibrationSummary } from '../../src/calibration/summary';
import { autoResamples, readForecastColumns, runCalibrate, type CalibrateOptions } from '../../src/cli/calibrate';
import { DataError } from '../../src/core/errors';

const bin = join(__dirname, '..', '..', 'bin', 'quantbook.js');
const dir = mkdtempSync(join(tmpdir(), 'quantbook-calibrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
}

// Overconfident forecasts: the truth is sigmoid(0.5 logit p).
const rng = new Rng(17);
const n = 1200;
const p = Array.from({ length: n }, () => 0.02 + 0.96 * rng.uniform());
const y = p.map((q) => (rng.bernoulli(1 / (1 + Math.sqrt((1 - q) / q))) ? 1 : 0));
const csv = join(dir, 'pairs.csv');
writeFileSync(csv, 'p,y\n' + p.map((q, i) => `${q},${y[i]}`).join('\n') + '\n');
const parquet = join(dir, 'pairs.parquet');
pl.DataFrame({ pUp: p, up: y.map((v) => v === 1) }).writeParquet(parquet);

const defaults: CalibrateOptions = {
  input: csv,
  probCol: 'p',
  outcomeCol: 'y',
  bins: 10,
  strategy: 'uniform',
  plattInput: 'logit',
  evaluate: 'both',
  gap: 0,
  resamples: 100,
  seed: 0,
  json: true,
};

describe('quantbook calibrate', () => {
  it('has a help that names every flag', () => {
    const r = cli('calibrate', '--help');
    expect(r.status).toBe(0);
    for (const flag of ['--input', '--prob-col', '--outcome-col', '--bins', '--strategy', '--method', '--json', '--out', '--min-train', '--gap']) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('prints the table and scores of a CSV', () => {
    const r = cli('calibrate', '--input', csv, '--bins', '5');
    expect(r.status).toBe(0);
    const s = calibrationSummary(p, y, { bins: 5 });
    expect(r.stdout).toContain('5 uniform bins, right-closed');
    expect(r.stdout).toMatch(/ {3}1 +\[0\.000, 0\.200\] +\d+ +0\.\d{4}/);
    expect(r.stdout).toContain(`Brier      ${s.brier.toFixed(6)} = REL ${s.reliability.toFixed(6)}`);
    expect(r.stdout).toContain(`ECE        ${s.ece.toFixed(6)}`);
  });

  it('--json prints one object with the issue field names and the library values', async () => {
    const out = JSON.parse(await runCalibrate({ ...defaults, input: parquet, probCol: 'pUp', outcomeCol: 'up', strategy: 'quantile' }));
    const s = calibrationSummary(p, y, { strategy: 'quantile' });
    expect(out.bins).toHaveLength(10);
    expect(Object.keys(out.bins[0]).sort()).toEqual(['ciHigh', 'ciLow', 'count', 'hi', 'lo', 'meanPredicted', 'observed']);
    for (const k of ['brier', 'reliability', 'resolution', 'uncertainty', 'logLoss', 'ece', 'mce'] as const) expect(out[k]).toBe(s[k]);
    expect(out.input).toEqual({ file: parquet, rows: n, probCol: 'pUp', outcomeCol: 'up' });
    expect(out.calibrator).toBeUndefined();
  });

  it('--method adds the calibrator and honest walk-forward after-scores beside in-sample ones', async () => {
    const out = JSON.parse(await runCalibrate({ ...defaults, method: 'isotonic', gap: 10 }));
    expect(out.calibrator.kind).toBe('isotonic');
    expect(out.calibrator.fittedOn).toEqual({ firstRow: 0, rows: n });
    expect(out.after.evaluation).toMatchObject({ kind: 'walkForward', window: 'expanding', minTrain: 600, gap: 10, firstRow: 610, rows: 590, blocks: 5 });
    expect(out.after.baseline.brier).toBeCloseTo(calibrationSummary(p.slice(610), y.slice(610)).brier, 15);
    expect(out.after.brier).toBeLessThan(out.after.baseline.brier);
    expect(out.afterInSample.evaluation.kind).toBe('inSample');
    // In sample, isotonic puts every bin exactly on the diagonal: the optimism walk-forward avoids.
    expect(out.afterInSample.ece).toBeLessThan(1e-12);
    expect(out.after.ece).toBeGreaterThan(0.005);

    const platt = JSON.parse(await runCalibrate({ ...defaults, method: 'platt', evaluate: 'in-sample' }));
    expect(platt.calibrator).toMatchObject({ kind: 'platt', input: 'logit', converged: true });
    expect(platt.calibrator.a).toBeCloseTo(-0.5, 1);
    expect(platt.after.evaluation.kind).toBe('inSample');
    expect(platt.afterInSample).toBeUndefined();
  });

  it('--out writes a standalone HTML reliability diagram', async () => {
    const outDir = join(dir, 'html');
    const out = JSON.parse(await runCalibrate({ ...defaults, method: 'platt', out: outDir }));
    const html = readFileSync(join(outDir, 'calibration.html'), 'utf8');
    expect(out.html).toBe(join(outDir, 'calibration.html'));
    expect(html.includes("Plotly.newPlot('figure-0'")).toBe(true);
    expect(html.includes("Plotly.newPlot('figure-1'")).toBe(true); // walk-forward before/after
    expect(html.includes('consistency band')).toBe(true);
    expect(out.consistencyBand).toEqual({ resamples: 100, seed: 0, level: 0.9 });
    expect([autoResamples(1200), autoResamples(200_000), autoResamples(5_000_000)]).toEqual([1000, 250, 100]);
  });

  it('bad input: one line naming file, row, column and value; exit 1', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'p,y\n0.2,0\n1.5,1\n');
    const r = cli('calibrate', '--input', bad, '--bins', '1');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`quantbook: DataError: probability must be in [0, 1] (file ${bad}, row 1, column "p", value 1.5)`);

    const gaps = join(dir, 'gaps.csv');
    writeFileSync(gaps, 'p,y\n0.2,0\n,1\n');
    expect(cli('calibrate', '--input', gaps, '--bins', '1').stderr).toMatch(/missing value \(file .*gaps.csv, row 1, column "p"\)/);
    expect(cli('calibrate', '--input', csv, '--outcome-col', 'z').stderr).toMatch(/column not found \(columns: p, y\)/);
    const small = join(dir, 'small.csv');
    writeFileSync(small, 'p,y\n0.2,0\n0.5,1\n');
    expect(cli('calibrate', '--input', small, '--bins', '5').stderr).toMatch(/fewer points \(2\) than bins \(5\)/);
    expect(cli('calibrate', '--input', csv, '--bins', 'ten').stderr).toMatch(/ConfigError: invalid --bins/);
    expect(cli('calibrate', '--input', join(dir, 'x.txt')).stderr).toMatch(/DataError: no such file \(file .*x\.txt\)/);
    expect(cli('calibrate', '--input', csv, '--gap', '5').stderr).toMatch(/ConfigError: --gap needs --method isotonic\|platt/);
    const r2 = cli('calibrate', '--input', csv, '--method', 'isotonic', '--min-train', '1195');
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/walk-forward leaves 5 out-of-sample rows, fewer than 10 bins/);
  });

  it('names the real cause: a header without rows, a folder, a symbolic link loop', async () => {
    const header = join(dir, 'header-only.csv');
    writeFileSync(header, 'p,y\n');
    await expect(readForecastColumns(header, 'p', 'y')).rejects.toThrow(new DataError('no rows: the file has a header (p, y) but no data rows', { file: header }));
    await expect(readForecastColumns(dir, 'p', 'y')).rejects.toThrow(new DataError('is a folder, expected a file (.csv or .parquet)', { file: dir }));
    const loop = join(dir, 'loop.csv');
    symlinkSync(loop, loop);
    await expect(readForecastColumns(loop, 'p', 'y')).rejects.toThrow(/^symbolic link loop: the path leads back to itself \(ELOOP\)/);
  });
});
