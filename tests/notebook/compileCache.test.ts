import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONVERTER_RETURN_ANCHOR, withStateAccessor } from '../../src/notebook/runner/compileCache';
import {
  baseKeyOf, cellKey, decodeEntry, decodeLikeTypeScript, encodeEntry, isPlainJson, TSLAB_CONVERTER_SHA256, WorldCheck,
  type CompileCacheReport,
} from '../../src/notebook/runner/compileStore';
import { KernelClient } from '../../src/notebook/runner/kernel';
import { REPO_ROOT } from '../support/paths';

describe('compile cache keys and entries', () => {
  it('keys a cell by its source, the declarations before it and the converter', () => {
    const base = baseKeyOf({ typescript: '/ts.js 5.0.4 1 1', node: 'v20.20.2', cwd: '/nb', options: { target: 9 }, isJS: false });
    const k = cellKey(base, 'declare const a: number;', 'console.log(a)');
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(cellKey(base, 'declare const a: number;', 'console.log(a)')).toBe(k);
    expect(cellKey(base, 'declare const a: string;', 'console.log(a)')).not.toBe(k);
    expect(cellKey(base, 'declare const a: number;', 'console.log(a);')).not.toBe(k);
    // the split between declarations and source is part of the key
    expect(cellKey(base, 'ab', 'c')).not.toBe(cellKey(base, 'a', 'bc'));
    for (const other of [
      { typescript: '/ts.js 5.0.4 1 2', node: 'v20.20.2', cwd: '/nb', options: { target: 9 }, isJS: false },
      { typescript: '/ts.js 5.0.4 1 1', node: 'v22.0.0', cwd: '/nb', options: { target: 9 }, isJS: false },
      { typescript: '/ts.js 5.0.4 1 1', node: 'v20.20.2', cwd: '/other', options: { target: 9 }, isJS: false },
      { typescript: '/ts.js 5.0.4 1 1', node: 'v20.20.2', cwd: '/nb', options: { target: 7 }, isJS: false },
      { typescript: '/ts.js 5.0.4 1 1', node: 'v20.20.2', cwd: '/nb', options: { target: 9 }, isJS: true },
    ]) expect(cellKey(baseKeyOf(other), 'declare const a: number;', 'console.log(a)')).not.toBe(k);
  });

  it('round-trips an entry and refuses a flipped byte, a truncation, another key and garbage', () => {
    const body = { result: { output: 'console.log(1);\n', diagnostics: [] }, world: 'a'.repeat(64) };
    const text = encodeEntry('k1', body);
    expect(decodeEntry(text, 'k1')).toEqual({ ok: true, body });
    const flipped = text.slice(0, -5) + (text.at(-5) === 'x' ? 'y' : 'x') + text.slice(-4);
    expect(decodeEntry(flipped, 'k1').ok).toBe(false);
    expect(decodeEntry(text.slice(0, -1), 'k1').ok).toBe(false);
    expect(decodeEntry(text, 'k2').ok).toBe(false);
    expect(decodeEntry('garbage', 'k1').ok).toBe(false);
    expect(decodeEntry('', 'k1').ok).toBe(false);
  });

  it('stores only results that survive JSON unchanged', () => {
    expect(isPlainJson({ output: 'x', diagnostics: [{ start: { offset: 1, line: 0, character: 1 }, messageText: 'm', fileName: undefined }], lastExpressionVar: undefined })).toBe(true);
    expect(isPlainJson({ a: NaN })).toBe(false);
    expect(isPlainJson({ a: [undefined] })).toBe(false);
    expect(isPlainJson({ a: new Map() })).toBe(false);
    expect(isPlainJson({ a: () => 1 })).toBe(false);
    expect(isPlainJson({ a: 1n })).toBe(false);
  });

  it("adds the state accessor on the converter's return line, and refuses a source without exactly one", () => {
    const src = `function createConverter() {\n${CONVERTER_RETURN_ANCHOR}        inspect,\n    };\n}\n`;
    const patched = withStateAccessor(src);
    expect(patched).toContain('return { __quantbookState: () => ({ builder, srcFilename, declFilename, rootFiles }),\n        close,\n        convert,\n');
    expect(patched.split('\n').length).toBe(src.split('\n').length);
    expect(() => withStateAccessor('return { close };')).toThrow(/no single return/);
    expect(() => withStateAccessor(src + src)).toThrow(/no single return/);
  });

  it("is written for the installed tslab's converter (a tslab upgrade must be checked again)", () => {
    const converter = join(REPO_ROOT, 'node_modules', 'tslab', 'dist', 'converter.js');
    const source = readFileSync(converter, 'utf8');
    expect(createHash('sha256').update(source).digest('hex')).toBe(TSLAB_CONVERTER_SHA256);
    expect(() => withStateAccessor(source)).not.toThrow();
  });
});

describe('compile cache world checks', () => {
  it("decodes a file as TypeScript's sys.readFile does, and hashes only bytes that decode to the text TypeScript parsed", () => {
    expect(decodeLikeTypeScript(Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x62]))).toBe('ab');
    expect(decodeLikeTypeScript(Buffer.from([0xff, 0xfe, 0x61, 0x00]))).toBe('a');
    expect(decodeLikeTypeScript(Buffer.from([0xfe, 0xff, 0x00, 0x61]))).toBeUndefined();
    expect(decodeLikeTypeScript(Buffer.from('é', 'utf8'))).toBe('é');
    const dir = mkdtempSync(join(tmpdir(), 'qb-world-text-'));
    const a = join(dir, 'a.d.ts');
    writeFileSync(a, '\ufeffexport type A = 1;\n');
    const check = new WorldCheck(() => []);
    expect(check.hashIfText(a, 'export type B = 1;\n')).toBeNull();
    const h = check.hashIfText(a, 'export type A = 1;\n');
    expect(h).toBe(createHash('sha256').update(readFileSync(a)).digest('hex'));
    // a later program that parsed other text for the path is not stored with these bytes
    expect(check.hashIfText(a, 'export type A = 2;\n')).toBeNull();
    expect(check.hashIfText(a, 'export type A = 1;\n')).toBe(h);
    expect(check.hashIfText(join(dir, 'none.d.ts'), '')).toBeNull();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds while files keep their bytes, missing places stay missing and type directives stay the same', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-world-'));
    const a = join(dir, 'a.d.ts');
    writeFileSync(a, 'export type A = number;\n');
    const hash = createHash('sha256').update('export type A = number;\n').digest('hex');
    const world = { files: [[a, hash]] as Array<[string, string]>, missing: [join(dir, 'b.d.ts')], typeDirectives: ['node'] };
    expect(new WorldCheck(() => ['node']).holds(world)).toBe(true);
    expect(new WorldCheck(() => ['node', 'extra']).holds(world)).toBe(false);
    writeFileSync(a, 'export type A = string;\n');
    expect(new WorldCheck(() => ['node']).holds(world)).toBe(false);
    writeFileSync(a, 'export type A = number;\n');
    writeFileSync(join(dir, 'b.d.ts'), 'export type B = 1;\n');
    expect(new WorldCheck(() => ['node']).holds(world)).toBe(false);
    rmSync(join(dir, 'b.d.ts'));
    rmSync(a);
    expect(new WorldCheck(() => ['node']).holds(world)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('a tslab kernel with the compile cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qb-compile-nb-'));
  const cacheDir = mkdtempSync(join(tmpdir(), 'qb-compile-cache-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  });
  const zero: CompileCacheReport = { hits: 0, misses: 0, stale: 0, corrupt: 0, uncacheable: 0, unwritten: 0 };

  /** Runs cells in a fresh kernel in `dir`; returns each cell's text (stdout, or the error) and the cache's counts. */
  async function run(cells: string[], compileCache = true): Promise<{ texts: string[]; report: CompileCacheReport | undefined }> {
    const kernel = await KernelClient.start({ cwd: dir, snapshot: false, compileCache, compileCacheDir: cacheDir });
    try {
      const texts: string[] = [];
      for (const cell of cells) {
        const r = await kernel.execute(cell);
        await new Promise((res) => setTimeout(res, 100));
        texts.push(r.outcome.kind === 'ok' ? r.outputs.map((o) => ('text' in o ? String(o.text) : '')).join('') : `error: ${r.outcome.kind === 'error' ? r.outcome.errorText : r.outcome.kind}`);
      }
      return { texts, report: kernel.compileCache() };
    } finally {
      await kernel.shutdown();
    }
  }

  const cells = [
    "import type { Row } from './types';\nconst r: Row = { price: 21 };",
    'console.log(r.price * 2);',
    "import type { Extra } from './extra';\nconst e: Extra = 5;\nconsole.log(e);",
  ];

  it('compiles, then reuses the compile when nothing changed: same outputs, same type errors, as without the cache', async () => {
    writeFileSync(join(dir, 'types.d.ts'), 'export interface Row { price: number }\n');
    const off = await run(cells, false);
    expect(off.report).toBeUndefined();
    expect(off.texts[1]).toBe('42\n');
    expect(off.texts[2]).toMatch(/^error: [\s\S]*Cannot find module '\.\/extra'/);
    const first = await run(cells);
    expect(first.report).toEqual({ ...zero, misses: 3 });
    expect(first.texts).toEqual(off.texts);
    const second = await run(cells);
    expect(second.report).toEqual({ ...zero, hits: 3 });
    expect(second.texts).toEqual(off.texts);
    expect(readdirSync(join(cacheDir, 'worlds')).length).toBeGreaterThan(0);
  }, 120_000);

  it('compiles again when a declaration file changes: the new type error, counted stale', async () => {
    writeFileSync(join(dir, 'types.d.ts'), 'export interface Row { price: string }\n');
    const changed = await run(cells.slice(0, 2));
    expect(changed.report?.stale).toBe(1);
    expect(changed.texts[0]).toMatch(/^error: [\s\S]*Type 'number' is not assignable to type 'string'/);
    // Back as it was: the first cell's entry now holds the string world (stale again, replaced); the
    // second cell's (after the first cell's declarations, not run since) still holds.
    writeFileSync(join(dir, 'types.d.ts'), 'export interface Row { price: number }\n');
    expect((await run(cells.slice(0, 2))).report).toEqual({ ...zero, hits: 1, stale: 1 });
  }, 120_000);

  it('compiles again when a module it could not find appears', async () => {
    writeFileSync(join(dir, 'extra.d.ts'), 'export type Extra = number;\n');
    const found = await run(cells);
    expect(found.report).toEqual({ ...zero, hits: 2, stale: 1 });
    expect(found.texts[2]).toBe('5\n');
    rmSync(join(dir, 'extra.d.ts'));
    const gone = await run(cells);
    expect(gone.report).toEqual({ ...zero, hits: 2, stale: 1 });
    expect(gone.texts[2]).toMatch(/^error: [\s\S]*Cannot find module '\.\/extra'/);
  }, 120_000);

  it('counts a corrupt entry, compiles the cell and replaces the entry', async () => {
    const entries = readdirSync(cacheDir).filter((d) => /^[0-9a-f]{2}$/.test(d)).flatMap((d) => readdirSync(join(cacheDir, d)).map((f) => join(cacheDir, d, f)));
    expect(entries.length).toBeGreaterThanOrEqual(3);
    for (const e of entries) writeFileSync(e, readFileSync(e, 'utf8').replace('42', '43').replace('price', 'prize'));
    const r = await run(cells.slice(0, 2));
    expect(r.texts[1]).toBe('42\n');
    expect(r.report).toEqual({ ...zero, corrupt: 2 });
    expect((await run(cells.slice(0, 2))).report).toEqual({ ...zero, hits: 2 });
  }, 120_000);

  it('leaves a cell that imports a local TypeScript module to tslab, counted uncacheable', async () => {
    writeFileSync(join(dir, 'helper.ts'), 'export function twice(x: number): number { return 2 * x; }\n');
    const local = ["import { twice } from './helper';\nconsole.log(twice(4));"];
    for (let i = 0; i < 2; i++) {
      const r = await run(local);
      expect(r.texts).toEqual(['8\n']);
      expect(r.report).toEqual({ ...zero, uncacheable: 1 });
    }
  }, 120_000);
});
