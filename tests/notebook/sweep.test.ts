import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, NotebookError } from '../../src/core/errors';
import { runPool } from '../../src/notebook/runner/pool';
import { expandGrid, parseGridAxis, parseSweepConfig, readSweepConfig, runSweep, splitTopLevel, sweepCsv } from '../../src/notebook/sweep/sweep';
import type { SweepResult } from '../../src/notebook/records/sweep';
import { renderSweepPage } from '../../src/notebook/report/sweep-page';
import { REPO_ROOT } from '../support/paths';

describe('grids', () => {
  it('reads values like -p, keeping JSON with commas whole', () => {
    expect(splitTopLevel('a,[1,2],"x,y",{"k":[3,4]}')).toEqual(['a', '[1,2]', '"x,y"', '{"k":[3,4]}']);
    expect(parseGridAxis('horizon=15,30')).toEqual({ name: 'horizon', values: [15, 30] });
    expect(parseGridAxis('mode=fast,slow,null')).toEqual({ name: 'mode', values: ['fast', 'slow', null] });
    expect(parseGridAxis('w=[0.5,0.5],[1,0]')).toEqual({ name: 'w', values: [[0.5, 0.5], [1, 0]] });
  });

  it('refuses malformed grids with a NotebookError', () => {
    expect(() => parseGridAxis('horizon')).toThrow(NotebookError);
    expect(() => parseGridAxis('=1,2')).toThrow(/name=v1,v2/);
    expect(() => parseGridAxis('bad-name=1')).toThrow(/"bad-name" \(from --grid\) cannot be declared as a TypeScript const: it is not an identifier/);
    expect(() => parseGridAxis('a=1,,2')).toThrow(/empty value/);
    expect(() => parseGridAxis('a=1,1.0')).toThrow(/twice/);
    expect(() => expandGrid([parseGridAxis('a=1'), parseGridAxis('a=2')])).toThrow(/"a" twice/);
  });

  it('refuses a value that is not a finite number, by the same rule as -p (issue 12)', () => {
    expect(() => parseGridAxis('n=1,1e400')).toThrow(ConfigError);
    expect(() => parseGridAxis('n=1,1e400')).toThrow(/^parameter "n" \(from --grid\) is Infinity: parameters must be finite numbers .*value "1e400"\)$/);
    expect(() => parseGridAxis('w=[1,-1e999]')).toThrow(/^parameter "w" \(from --grid\) holds -Infinity at w\[1\]: parameters must be finite/);
    expect(() => parseSweepConfig('grid:\n  n: [1, .inf]', 'x.yaml')).toThrow(/^parameter "n" \(from the sweep config grid.n\[1\]\) is Infinity: parameters must be finite/);
    expect(() => parseSweepConfig('parameters:\n  n: .nan', 'x.yaml')).toThrow(/^parameter "n" \(from the sweep config parameters\) is NaN: /);
    expect(() => parseSweepConfig('parameters:\n  __proto__: {a: 1}', 'x.yaml')).toThrow(/"__proto__" \(from the sweep config parameters\) cannot be declared as a TypeScript const/);
  });

  it('expands every combination with the first axis varying slowest', () => {
    expect(expandGrid([parseGridAxis('a=1,2'), parseGridAxis('b=x,y,z')])).toEqual([
      { a: 1, b: 'x' }, { a: 1, b: 'y' }, { a: 1, b: 'z' }, { a: 2, b: 'x' }, { a: 2, b: 'y' }, { a: 2, b: 'z' },
    ]);
    expect(expandGrid([])).toEqual([{}]);
  });
});

describe('sweep config files', () => {
  it('reads the grid axes in file order and the fixed parameters', () => {
    const c = parseSweepConfig('grid:\n  lookbacks: [128, 256]\n  topPs: [0.9, 1.0]\nparameters:\n  samples: [64, 1024]\n  bestDir: null\n', 'x.yaml');
    expect(c.axes).toEqual([{ name: 'lookbacks', values: [128, 256] }, { name: 'topPs', values: [0.9, 1] }]);
    expect(c.fixed).toEqual({ samples: [64, 1024], bestDir: null });
    expect(expandGrid(c.axes)).toHaveLength(4);
    expect(parseSweepConfig('', 'empty.yaml')).toEqual({ axes: [], fixed: {} });
  });

  it('refuses what it cannot sweep, naming the file and key', () => {
    expect(() => parseSweepConfig('grid: [1, 2]', 'x.yaml')).toThrow(/grid must be a mapping/);
    expect(() => parseSweepConfig('grid:\n  a: 3', 'x.yaml')).toThrow(/grid.a must be a non-empty list/);
    expect(() => parseSweepConfig('grid:\n  a: []', 'x.yaml')).toThrow(/non-empty list/);
    expect(() => parseSweepConfig('grid:\n  a: [1, 1]', 'x.yaml')).toThrow(/twice/);
    expect(() => parseSweepConfig('grids:\n  a: [1]', 'x.yaml')).toThrow(/unknown key "grids"/);
    expect(() => parseSweepConfig('grid:\n  bad-name: [1]', 'x.yaml')).toThrow(/"bad-name" \(from the sweep config grid\) cannot be declared as a TypeScript const: it is not an identifier/);
    expect(() => parseSweepConfig('grid: {a: [1', 'x.yaml')).toThrow(NotebookError);
    expect(() => readSweepConfig('/nonexistent/sweep.yaml')).toThrow(/cannot read/);
  });

  it('parses the shipped sweep config of 05-sweep', () => {
    const c = readSweepConfig(join(REPO_ROOT, 'configs', 'sweep-05.yaml'));
    expect(c.axes.map((a) => a.name)).toEqual(['lookbacks', 'temperatures', 'topPs']);
    expect(c.fixed.bestDir).toBeNull();
  });
});

describe('the worker pool', () => {
  it('never runs more than `workers` tasks at once and keeps results in task order', async () => {
    let inFlight = 0;
    let peak = 0;
    const starts: number[] = [];
    const results = await runPool([30, 5, 20, 1, 10], 2, async (ms, i) => {
      starts.push(i);
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, ms));
      inFlight--;
      return ms * 2;
    });
    expect(results).toEqual([60, 10, 40, 2, 20]);
    expect(peak).toBe(2);
    expect(starts).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('results.csv', () => {
  it('has one row per combination, quotes what needs it and renames records that repeat a parameter', () => {
    const result: SweepResult = {
      notebook: 'n.ipynb', axes: [parseGridAxis('horizon=15,30')], fixed: {}, outDir: '.', durationS: 3,
      rows: [
        { index: 1, combination: { horizon: 15 }, summary: { name: '1', notebook: 'n', status: 'ok', startTime: '', durationS: 1.23456, parameters: { horizon: 15 }, records: { horizon: 15, pUp: 0.5, tags: ['a', 'b'] }, html: '1.html' } },
        { index: 2, combination: { horizon: 30 }, summary: { name: '2', notebook: 'n', status: 'failed', startTime: '', durationS: 2, parameters: { horizon: 30 }, records: {}, error: 'cell 3 failed: Error: "x", y', html: '2.html' } },
      ],
    };
    expect(sweepCsv(result)).toBe([
      'index,status,duration_s,horizon,record.horizon,pUp,tags,error,report',
      '1,ok,1.235,15,15,0.5,"[""a"",""b""]",,1.html',
      '2,failed,2,30,,,,"cell 3 failed: Error: ""x"", y",2.html',
      '',
    ].join('\n'));
  });
});

describe('user-named parameters and records (issue 12)', () => {
  it('sweeps a parameter named like an Object.prototype member; a record missing from a row stays empty', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-sweep-proto-'));
    // The notebook does not exist: every combination fails before a kernel starts, and the sweep still writes its tables.
    const r = await runSweep(join(out, 'missing.ipynb'), { axes: [parseGridAxis('constructor=1,2')], outDir: out, ensureBuild: false });
    expect(r.rows.map((row) => [row.combination, row.summary.status])).toEqual([[{ constructor: 1 }, 'failed'], [{ constructor: 2 }, 'failed']]);
    expect(readFileSync(join(out, 'results.csv'), 'utf8').split('\n')[0]).toBe('index,status,duration_s,constructor,error,report');

    const rows: SweepResult['rows'] = [
      { index: 1, combination: { toString: 1 }, summary: { name: '1', notebook: 'n', status: 'ok', startTime: '', durationS: 1, parameters: { toString: 1 }, records: { constructor: 5, valueOf: 0.5 } } },
      { index: 2, combination: { toString: 2 }, summary: { name: '2', notebook: 'n', status: 'ok', startTime: '', durationS: 1, parameters: { toString: 2 }, records: {} } },
    ];
    const result: SweepResult = { notebook: 'n.ipynb', axes: [parseGridAxis('toString=1,2')], fixed: {}, outDir: '.', durationS: 2, rows };
    expect(sweepCsv(result).split('\n').slice(0, 3)).toEqual(['index,status,duration_s,toString,constructor,valueOf,error,report', '1,ok,1,1,5,0.5,,', '2,ok,1,2,,,,']);
    const table = /<table class="sortable sweep">[\s\S]*?<\/table>/.exec(renderSweepPage(result, 'n'))?.[0] ?? '';
    expect(table).toContain('<td class="num" data-sort="5">5</td>');
    expect(table).not.toMatch(/function|native code/);
  });
});

describe('a sweep over a real notebook', () => {
  const out = mkdtempSync(join(tmpdir(), 'qb-sweep-'));
  let result: SweepResult;
  beforeAll(async () => {
    // Two combinations on two workers; the second fails on purpose (failAt === horizon).
    result = await runSweep(join(REPO_ROOT, 'tests/notebook/fixtures/params.ipynb'), {
      axes: [parseGridAxis('horizon=10,20')], fixed: { failAt: 20 }, outDir: out, workers: 2, ensureBuild: false,
    });
  });

  it('runs every combination, keeps the failed one as failed and collects every record', () => {
    expect(result.rows.map((r) => r.summary.status)).toEqual(['ok', 'failed']);
    expect(result.rows[0].summary.records).toEqual({ horizon: 10, label: 'base', weightSum: 3, score: 22 });
    expect(result.rows[1].summary.error).toMatch(/^cell 4 failed: Error: failing on purpose at horizon 20 \(file .*params.ipynb, cell 4\)$/);
    // The failing combination still recorded what it had before the failure.
    expect(result.rows[1].summary.records.score).toBe(42);
  });

  it('writes results.csv, results.json, a comparison page and every run', () => {
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').split('\n');
    expect(csv[0]).toBe('index,status,duration_s,horizon,record.horizon,label,weightSum,score,error,report');
    expect(csv[1]).toMatch(/^1,ok,[\d.]+,10,10,base,3,22,,1-horizon-10.html$/);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(json.rows.map((r: { status: string; parameters: unknown }) => [r.status, r.parameters])).toEqual([['ok', { horizon: 10 }], ['failed', { horizon: 20 }]]);
    expect(json.fixed).toEqual({ failAt: 20 });
    const page = readFileSync(join(out, 'index.html'), 'utf8');
    expect(page).toContain('2 combinations, 1 failed');
    expect(page).toContain('<table class="sortable sweep">');
    // One chart per numeric metric (weightSum, score; the recorded horizon is the parameter itself).
    expect(page.split('<div class="figure" id="chart-').length - 1).toBe(2);
    for (const f of ['1-horizon-10.html', '1-horizon-10.ipynb', '2-horizon-20.html', '2-horizon-20.ipynb']) expect(existsSync(join(out, 'runs', f))).toBe(true);
  });
});
