import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random';
import { DataError } from '../../src/core/errors';
import { loadXgboostModel } from '../../src/gbdt/xgboostJson';
import { predictGbdt } from '../../src/gbdt/model';
import { readFeatureTable } from '../../src/cli/gbdt';

const bin = join(__dirname, '..', '..', 'bin', 'quantbook.js');
const fixtures = join(__dirname, '..', 'gbdt', 'fixtures');
const dir = mkdtempSync(join(tmpdir(), 'quantbook-gbdt-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
}

// A table with a label that depends on two of three features, and empty (missing) cells.
const rng = new Rng(8);
function table(n: number): string {
  const rows = ['ret_1,vol,noise,up'];
  for (let i = 0; i < n; i++) {
    const a = rng.normal();
    const b = rng.normal();
    const up = rng.uniform() < 1 / (1 + Math.exp(-(2 * a - b))) ? 1 : 0;
    rows.push(`${i % 23 === 0 ? '' : a.toFixed(4)},${b.toFixed(4)},${rng.normal().toFixed(4)},${up}`);
  }
  return rows.join('\n') + '\n';
}
const train = join(dir, 'train.csv');
const valid = join(dir, 'valid.csv');
writeFileSync(train, table(1500));
writeFileSync(valid, table(500));

describe('quantbook gbdt', () => {
  it('trains with early stopping, saves XGBoost JSON, and predicts rows in input order', () => {
    const model = join(dir, 'model.json');
    const r = cli('gbdt', 'train', '--input', train, '--label', 'up', '--max-depth', '3', '--rounds', '300', '--early-stopping', '10', '--valid', valid, '--out', model);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/trained binary:logistic on 1500 rows x 3 features/);
    expect(r.stdout).toMatch(/66 missing feature values routed .*\(ret_1 66\)/);
    expect(r.stdout).toMatch(/best iteration \d+/);
    const m = loadXgboostModel(model);
    expect(m.featureNames).toEqual(['ret_1', 'vol', 'noise']);
    expect(m.trees.length).toBe(m.bestIteration! + 1);
    expect(r.stdout).toMatch(/ret_1\s+[\d.]+/);

    const out = join(dir, 'preds.csv');
    const p = cli('gbdt', 'predict', '--model', model, '--input', valid, '--out', out);
    expect(p.status).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('prediction');
    expect(lines.length).toBe(501);
    // The same numbers as the library on the same rows, in order.
    const df = pl.readCSV(valid);
    const x = new Float32Array(500 * 3);
    ['ret_1', 'vol', 'noise'].forEach((c, f) => (df.getColumn(c).toArray() as (number | null)[]).forEach((v, i) => (x[i * 3 + f] = v ?? NaN)));
    const expected = predictGbdt(m, x);
    expect(lines.slice(1).map(Number)).toEqual(Array.from(expected));
  });

  it("predicts with XGBoost's own model file (columns by position when the model has no names)", () => {
    const exp = JSON.parse(readFileSync(join(fixtures, 'logistic.expected.json'), 'utf8')) as { x: (number | null)[][]; prediction: number[] };
    const input = join(dir, 'xgb-x.parquet');
    const cols: Record<string, (number | null)[]> = {};
    for (let f = 0; f < 6; f++) cols[`c${f}`] = exp.x.map((row) => row[f]!);
    pl.DataFrame(cols).writeParquet(input);
    const out = join(dir, 'xgb-preds.csv');
    const r = cli('gbdt', 'predict', '--model', join(fixtures, 'logistic.model.json'), '--input', input, '--out', out);
    expect(r.stderr).toBe('');
    const got = readFileSync(out, 'utf8').trim().split('\n').slice(1).map(Number);
    let worst = 0;
    got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - exp.prediction[i]!))));
    expect(got.length).toBe(exp.prediction.length);
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it('fails with one line naming the file, column and row', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'a,up\n1,0\n2,\n3,1\n');
    const r = cli('gbdt', 'train', '--input', bad, '--label', 'up', '--out', join(dir, 'x.json'));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`quantbook: DataError: label is missing or not finite (file ${bad}, row 1, column "up", value null)\n`);
    const noCol = cli('gbdt', 'train', '--input', train, '--label', 'down', '--out', join(dir, 'x.json'));
    expect(noCol.stderr).toContain('column "down"');
    const flag = cli('gbdt', 'train', '--input', train, '--label', 'up', '--eta', '-1', '--out', join(dir, 'x.json'));
    expect(flag.stderr).toContain('ConfigError: invalid --eta');
    const es = cli('gbdt', 'train', '--input', train, '--label', 'up', '--early-stopping', '5', '--out', join(dir, 'x.json'));
    expect(es.stderr).toContain('--early-stopping needs --valid');
    const model = cli('gbdt', 'predict', '--model', join(dir, 'nope.json'), '--input', train, '--out', join(dir, 'p.csv'));
    expect(model.stderr).toContain('ModelError: cannot read model file');
  });

  it('reads a table: empty cells are missing features, text columns and infinities are errors', async () => {
    const f = join(dir, 'cells.csv');
    writeFileSync(f, 'a,b,s\n1,,x\n2,inf,y\n');
    const t = await readFeatureTable(f, { features: ['a'] });
    expect(Array.from(t.x)).toEqual([1, 2]);
    await expect(readFeatureTable(f, { features: ['s'] })).rejects.toMatchObject({ location: { column: 's' } });
    await expect(readFeatureTable(f, { features: ['a', 'b'] })).rejects.toBeInstanceOf(DataError);
    await expect(readFeatureTable(f, { features: ['a', 'b'] })).rejects.toMatchObject({ location: { column: 'b', row: 1 } });
  });
});
