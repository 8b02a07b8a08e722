import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotebookError } from '../../src/core/errors';
import { KernelClient } from '../../src/notebook/runner/kernel';
import { REPO_ROOT } from '../support/paths';

// tslab resets its queue for 200 ms after a failed cell and aborts what arrives meanwhile.
const settle = () => new Promise((r) => setTimeout(r, 300));

describe('the tslab kernel over the wire protocol', () => {
  let kernel: KernelClient;
  beforeAll(async () => {
    kernel = await KernelClient.start({ cwd: REPO_ROOT });
  });
  afterAll(async () => {
    await kernel?.shutdown();
  });

  it('answers kernel_info and heartbeats', async () => {
    expect(kernel.kernelInfo.implementation).toBe('tslab');
    expect((kernel.kernelInfo.language_info as { name: string }).name).toBe('typescript');
    expect(kernel.startupMs).toBeGreaterThan(0);
    expect(await kernel.heartbeat()).toBe(true);
  });

  it('waits out a cell under a timeout above 2^31-1 ms, which a bare Node timer fires at once (issue 12)', async () => {
    const r = await kernel.execute('await new Promise((r) => setTimeout(r, 300)); console.log("slept")', { timeoutMs: 3_000_000_000 });
    expect(r.outcome).toEqual({ kind: 'ok' });
    expect(r.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'slept\n' }]);
  });

  it('runs TypeScript, keeps state between cells and collects stdout in order', async () => {
    const a = await kernel.execute('const base: number = 40;\nconsole.log("one"); console.log("two")');
    expect(a.outcome).toEqual({ kind: 'ok' });
    expect(a.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'one\ntwo\n' }]);
    const b = await kernel.execute('console.log(base + 2)');
    expect(b.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: '42\n' }]);
    expect(b.executionCount).toBe((a.executionCount ?? 0) + 1);
  });

  it('answers a completion request (the pool\'s warm-up) without running anything, printing or counting an execution', async () => {
    const before = await kernel.execute('const warm: number = 20;');
    expect(await kernel.complete("import { record } from './dist/notebook';\nconsole.log('never printed');\nconsole.lo")).toBe(true);
    const after = await kernel.execute('console.log(warm + 1)');
    expect(after.executionCount).toBe((before.executionCount ?? 0) + 1);
    expect(after.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: '21\n' }]);
  });

  it('reports a failing cell from execute_reply with its stderr as the error text', async () => {
    const r = await kernel.execute('console.log("before");\nthrow new TypeError("bad input")');
    expect(r.outcome.kind).toBe('error');
    expect(r.outcome.kind === 'error' && r.outcome.errorText).toMatch(/TypeError: bad input/);
    expect(r.outputs[0]).toEqual({ output_type: 'stream', name: 'stdout', text: 'before\n' });
    await settle();
    const typeError = await kernel.execute('const n: number = "text";');
    expect(typeError.outcome.kind === 'error' && typeError.outcome.errorText).toMatch(/Type 'string' is not assignable to type 'number'/);
    await settle();
  });

  it('interrupts a synchronous infinite loop at the timeout and keeps the kernel usable', async () => {
    // 2 s: a SIGINT that lands while tslab still compiles the cell is lost (then the kill path runs).
    const r = await kernel.execute('while (true) {}', { timeoutMs: 2000 });
    expect(r.outcome).toMatchObject({ kind: 'timeout', timeoutMs: 2000, stoppedBy: 'interrupt' });
    expect(r.outcome.kind === 'timeout' && r.outcome.errorText).toMatch(/interrupted/);
    await settle();
    const after = await kernel.execute('console.log(base)');
    expect(after.outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: '40\n' }]);
  });

  it('interrupts a hanging await at the timeout', async () => {
    const r = await kernel.execute('await new Promise(() => {})', { timeoutMs: 2000 });
    expect(r.outcome).toMatchObject({ kind: 'timeout', stoppedBy: 'interrupt' });
    await settle();
  });

  it('kills a cell that ignores the interrupt, and then knows the kernel is gone', async () => {
    const r = await kernel.execute(
      "process.removeAllListeners('SIGINT'); process.on('SIGINT', () => {}); await new Promise(() => {})",
      { timeoutMs: 300, interruptGraceMs: 300 },
    );
    expect(r.outcome).toMatchObject({ kind: 'timeout', stoppedBy: 'kill' });
    expect(kernel.isDead).toBe(true);
    expect(await kernel.heartbeat(200)).toBe(false);
    const next = await kernel.execute('1');
    expect(next.outcome.kind).toBe('kernel-died');
  });
});

describe('kernel start-up failures', () => {
  it('names a kernel command that does not exist', async () => {
    const start = KernelClient.start({ cwd: REPO_ROOT, argv: ['/no/such/tslab', '{connection_file}'], notebook: 'n.ipynb' });
    await expect(start).rejects.toThrow(NotebookError);
    await expect(start).rejects.toThrow(/cannot start the kernel \(\/no\/such\/tslab\).*ENOENT \(file n.ipynb\)/);
  });

  it('reports a kernel that exits at start-up, with its exit code', async () => {
    const start = KernelClient.start({ cwd: REPO_ROOT, argv: [process.execPath, '-e', 'console.error("no license"); process.exit(4)'], notebook: 'n.ipynb' });
    await expect(start).rejects.toThrow(/kernel exited during start-up \(exit code 4, signal null\): no license \(file n.ipynb\)/);
  });

  it('gives up at once on a kernel whose port was taken before it bound it, and starts a fresh one on new ports', async () => {
    // The fake kernel starts and fails as tslab does: the first one finds its shell port taken,
    // prints the failed bind and stays alive and silent; the second starts normally.
    const marker = join(mkdtempSync(join(tmpdir(), 'qb-taken-')), 'taken');
    const fake = [process.execPath, join(REPO_ROOT, 'tests/notebook/fixtures/fake-kernel.cjs'), '{connection_file}'];
    process.env.FAKE_KERNEL_TAKE_SHELL_ONCE = marker;
    const t0 = performance.now();
    let kernel: KernelClient | undefined;
    try {
      kernel = await KernelClient.start({ cwd: REPO_ROOT, argv: fake, startTimeoutMs: 60_000 });
    } finally {
      delete process.env.FAKE_KERNEL_TAKE_SHELL_ONCE;
    }
    // Not after the 60 s start timeout: as soon as the kernel said its bind failed.
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(readFileSync(marker, 'utf8')).toBe('taken\n');
    expect(kernel.silentStarts).toBe(1);
    expect(kernel.kernelInfo.implementation).toBe('fake');
    expect(await kernel.heartbeat()).toBe(true);
    await kernel.shutdown();
  }, 30_000);

  it('gives up on a kernel that never answers, after starting fresh ones in its place', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'qb-silent-')), 'starts.txt');
    const silent = [process.execPath, '-e', `require('fs').appendFileSync(${JSON.stringify(log)}, 'start\\n'); setInterval(() => {}, 1000)`];
    const start = KernelClient.start({ cwd: REPO_ROOT, argv: silent, startTimeoutMs: 2000 });
    await expect(start).rejects.toThrow('kernel did not answer kernel_info within 2000 ms');
    // The default: one fresh kernel in place of the silent one, then the error.
    expect(readFileSync(log, 'utf8')).toBe('start\nstart\n');
    writeFileSync(log, '');
    await expect(KernelClient.start({ cwd: REPO_ROOT, argv: silent, startTimeoutMs: 500, silentRetries: 0 })).rejects.toThrow(/within 500 ms/);
    expect(readFileSync(log, 'utf8')).toBe('start\n');
  });
});
