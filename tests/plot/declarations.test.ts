import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/paths';

/**
 * tslab parses every declaration file a notebook's imports reach, at every kernel start and in
 * both quantbook report and nbconvert: the entry points notebooks import must not drag in large
 * type-only dependencies. playwright-core's types (about 52,000 lines, more than @types/node) once
 * came in through dist/plot's png.d.ts.
 */
describe('declarations notebooks load', () => {
  it('do not reach playwright-core from any entry point notebooks import', () => {
    const modules = ['core', 'data', 'forecast', 'backtest', 'calibration', 'plot', 'notebook', 'signal'];
    const entries = modules.map((m) => join(REPO_ROOT, 'dist', m, 'index.d.ts'));
    const options = { noEmit: true, skipLibCheck: true, types: [], moduleResolution: ts.ModuleResolutionKind.Node10, esModuleInterop: true };
    const program = ts.createProgram(entries, options);
    const files = program.getSourceFiles().map((f) => f.fileName);
    expect(files.some((f) => f.endsWith('dist/plot/png.d.ts'))).toBe(true); // the PNG helpers are still there
    expect(files.filter((f) => f.includes('/playwright-core/'))).toEqual([]);
  });
});
