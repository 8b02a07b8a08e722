import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KernelClient } from '../../src/notebook/runner/kernel';
import { preloadScript } from '../../src/notebook/runner/preloads';
import { kernelSnapshot, snapshotBuildSpec, snapshotKey } from '../../src/notebook/runner/snapshot';
import { CREATE_SOURCE_FILE_ANCHOR, withParseGuard } from '../../src/notebook/runner/snapshotEntry';
import { REPO_ROOT } from '../support/paths';

/** Ends a background snapshot build this test started (its lock file holds the builder's pid; detached: its own group). */
function stopBuilder(lock: string): void {
  const pid = Number(readFileSync(lock, 'utf8'));
  try {
    if (Number.isInteger(pid) && pid > 0) process.kill(-pid, 'SIGKILL');
  } catch {
    // Already done.
  }
  rmSync(lock, { force: true });
}

const settle = () => new Promise((r) => setTimeout(r, 300));

describe('the kernel snapshot parse guard and key', () => {
  it('puts the guard right after the one createSourceFile, and refuses a source without exactly one', () => {
    const src = `a\n${CREATE_SOURCE_FILE_ANCHOR}    body();\n  }\n`;
    const guarded = withParseGuard(src);
    expect(guarded.startsWith(`a\n${CREATE_SOURCE_FILE_ANCHOR}    { const c = globalThis.__quantbookParsed;`)).toBe(true);
    expect(guarded.endsWith('    body();\n  }\n')).toBe(true);
    expect(() => withParseGuard('function createSourceFile() {}')).toThrow(/no single internal createSourceFile/);
    expect(() => withParseGuard(src + src)).toThrow(/no single internal createSourceFile/);
  });

  it('holds the lib, @types/node and polars declarations, and changes its key when a file changes', () => {
    const spec = snapshotBuildSpec(REPO_ROOT);
    expect(spec).toBeDefined();
    if (!spec) return;
    expect(spec.files.some((f) => f.endsWith('/lib.es5.d.ts'))).toBe(true);
    expect(spec.files.some((f) => /@types\/node\/fs\.d\.ts$/.test(f))).toBe(true);
    expect(spec.files.some((f) => /nodejs-polars\/bin\/index\.d\.ts$/.test(f))).toBe(true);
    expect(spec.files.some((f) => f.endsWith('lib.dom.d.ts'))).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), 'qb-snapkey-'));
    const entry = join(dir, 'entry.js');
    writeFileSync(entry, '1');
    const a = snapshotKey(spec, entry);
    expect(snapshotKey(spec, entry)).toBe(a);
    // a rebuild rewrites the entry with the same text: the snapshot stays
    utimesSync(entry, 1, 1);
    writeFileSync(entry, '1');
    expect(snapshotKey(spec, entry)).toBe(a);
    // another entry (same size, same mtime) is another snapshot
    writeFileSync(entry, '2');
    utimesSync(entry, 1, 1);
    const b = snapshotKey(spec, entry);
    expect(b).not.toBe(a);
    writeFileSync(entry, '12');
    expect(snapshotKey(spec, entry)).not.toBe(b);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('a tslab kernel started from the snapshot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qb-snapshot-'));
  afterAll(() => {
    for (const f of readdirSync(dir)) if (f.endsWith('.lock')) stopBuilder(join(dir, f));
    rmSync(dir, { recursive: true, force: true });
  });

  it('is built in the background, then used: parsed files reused, type errors still reported, outputs as without it', async () => {
    expect(kernelSnapshot(dir).state).toBe('building');
    let state = kernelSnapshot(dir).state;
    for (let waited = 0; state !== 'ready' && waited < 240_000; waited += 500) {
      await new Promise((r) => setTimeout(r, 500));
      state = kernelSnapshot(dir).state;
    }
    expect(state).toBe('ready');
    const results: Array<{ out: unknown; typeError: string; thrown: string; snapshot: unknown }> = [];
    for (const snapshot of [true, false]) {
      const kernel = await KernelClient.start({ cwd: REPO_ROOT, snapshotDir: dir, snapshot });
      try {
        const ok = await kernel.execute("import { basename } from 'node:path';\nconst xs: number[] = [1, 2, 3];\nconsole.log(basename('/a/b.txt'), xs.map((x) => x * 2));");
        expect(ok.outcome.kind).toBe('ok');
        const bad = await kernel.execute('const n: number = "text";');
        await settle();
        const thrown = await kernel.execute("throw new RangeError('bad range');");
        await settle();
        results.push({
          out: ok.outputs,
          typeError: bad.outcome.kind === 'error' ? bad.outcome.errorText : 'no error',
          thrown: thrown.outcome.kind === 'error' ? thrown.outcome.errorText : 'no error',
          snapshot: kernel.snapshot,
        });
      } finally {
        await kernel.shutdown();
      }
    }
    const [on, off] = results;
    expect(on.snapshot).toMatchObject({ state: 'used' });
    const report = (on.snapshot as { report?: { offered: number; reused: number } }).report;
    expect(report?.offered).toBeGreaterThan(100);
    expect(report?.reused).toBeGreaterThan(50);
    expect(off.snapshot).toBeUndefined();
    expect(on.out).toEqual(off.out);
    expect(on.out).toEqual([{ output_type: 'stream', name: 'stdout', text: 'b.txt [ 2, 4, 6 ]\n' }]);
    expect(on.typeError).toMatch(/Type 'string' is not assignable to type 'number'/);
    expect(on.typeError).toBe(off.typeError);
    // Errors keep their stack (Node leaves Error.stackTraceLimit out of a snapshot: snapshotEntry.ts).
    expect(on.thrown).toMatch(/^evalmachine\.<anonymous>:\d+\nthrow new RangeError\('bad range'\);[\s\S]*\n {4}at /);
    expect(on.thrown).toBe(off.thrown);
  }, 300_000);

  it('keeps the blob when the kernel exits at start-up without it too (broken for another reason)', async () => {
    const blob = readdirSync(dir).find((f) => f.endsWith('.blob'));
    expect(blob).toBeDefined();
    const before = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `--require=${join(dir, 'no-such-preload.js')}`;
    try {
      await expect(KernelClient.start({ cwd: REPO_ROOT, snapshotDir: dir })).rejects.toThrow(/exited during start-up/);
    } finally {
      if (before === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = before;
    }
    expect(readdirSync(dir).includes(blob ?? '')).toBe(true);
    expect(readdirSync(dir).some((f) => f.endsWith('.failed'))).toBe(false);
    expect(kernelSnapshot(dir).state).toBe('ready');
  }, 120_000);

  it('removes a blob Node refuses, starts the kernel without it, saying so, and does not rebuild it', async () => {
    const blob = readdirSync(dir).find((f) => f.endsWith('.blob'));
    expect(blob).toBeDefined();
    if (!blob) return;
    const garbage = Buffer.alloc(4096, 7);
    writeFileSync(join(dir, blob), garbage);
    writeFileSync(join(dir, blob.replace(/\.blob$/, '.size')), String(garbage.length));
    const kernel = await KernelClient.start({ cwd: REPO_ROOT, snapshotDir: dir });
    try {
      expect(kernel.snapshot).toEqual({ state: 'refused' });
      const r = await kernel.execute('console.log(1 + 1)');
      expect(r.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: '2\n' }]);
    } finally {
      await kernel.shutdown();
    }
    expect(readdirSync(dir).includes(blob)).toBe(false);
    // Not rebuilt at every start for Node to refuse again: unavailable, saying why.
    const after = kernelSnapshot(dir);
    expect(after.state).toBe('unavailable');
    expect(after.state === 'unavailable' && after.reason).toMatch(/refused/);
  }, 120_000);

  it('counts a blob of the wrong size as corrupt, removes it and rebuilds it', () => {
    const spec = snapshotBuildSpec(REPO_ROOT);
    if (!spec) throw new Error('no tslab');
    const key = snapshotKey(spec, preloadScript('snapshotEntry.js'));
    for (const f of readdirSync(dir)) if (f.endsWith('.lock')) stopBuilder(join(dir, f));
    writeFileSync(join(dir, `${key}.blob`), 'short');
    writeFileSync(join(dir, `${key}.size`), '999');
    expect(kernelSnapshot(dir).state).toBe('corrupt');
    expect(readdirSync(dir).includes(`${key}.blob`)).toBe(false);
    expect(readdirSync(dir).includes(`${key}.lock`)).toBe(true);
  });
});
