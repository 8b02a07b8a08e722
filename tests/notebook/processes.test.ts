/**
 * Issue 12, processes: a runner's kernels and connection files (which hold the
 * kernel's signing key) never outlive it, however it ends. Each test starts
 * the built CLI on tests/notebook/fixtures/slow.ipynb and finds its kernels
 * through /proc (Linux only).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/paths';

const SLOW = join(REPO_ROOT, 'tests/notebook/fixtures/slow.ipynb');
const BIN = join(REPO_ROOT, 'bin/quantbook.js');

interface Kernel {
  pid: number;
  connectionFile: string;
}

/** Whether `pid` runs (a zombie waiting for a reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Kernels (processes given a `--config-path`) whose parent is `parent`. */
function kernelsOf(parent: number): Kernel[] {
  const out: Kernel[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== parent) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const i = argv.indexOf('--config-path');
      if (i >= 0) out.push({ pid: Number(entry), connectionFile: argv[i + 1] });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

// Whatever a failing test leaves is cleaned up here: no kernel may outlive the suite.
const started: ChildProcess[] = [];
const kernelsSeen: Kernel[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const k of kernelsSeen.splice(0)) {
    if (alive(k.pid)) process.kill(k.pid, 'SIGKILL');
    rmSync(dirname(k.connectionFile), { recursive: true, force: true });
  }
});

/** Starts the CLI and waits until `n` kernels of it run and its stderr shows `ready`. */
async function startRunner(args: string[], n: number, ready: RegExp): Promise<{ runner: ChildProcess; kernels: Kernel[]; stderr: () => string }> {
  const runner = spawn(process.execPath, [BIN, ...args, '--no-build'], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(runner);
  let stderr = '';
  runner.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  runner.stdout!.resume();
  let kernels: Kernel[] = [];
  const ok = await until(() => {
    kernels = kernelsOf(runner.pid!);
    return (kernels.length === n && ready.test(stderr)) || runner.exitCode !== null;
  }, 120_000);
  kernelsSeen.push(...kernels);
  expect(ok && runner.exitCode === null, `runner did not reach ${ready} with ${n} kernels: ${stderr}`).toBe(true);
  return { runner, kernels, stderr: () => stderr };
}

// A kernel starts in about 2 s on an idle machine; the limits are for a loaded one.
describe.skipIf(process.platform !== 'linux')('kernels and connection files never outlive the runner (issue 12)', { timeout: 180_000 }, () => {
  it('a cell timeout above 2^31-1 ms is honoured, and a U+2028 in a string parameter reaches the notebook', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-proc-'));
    const runner = spawn(process.execPath, [BIN, 'run', SLOW, '-o', out, '-q', '--no-build', '--cell-timeout', '3000000', '-p', 'waitMs', '300', '-p', 'label', 'a\u2028b'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(runner);
    let stderr = '';
    runner.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
    runner.stdout!.resume();
    const { code } = await exitOf(runner);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'slow.run.json'), 'utf8')) as { records: Record<string, unknown> };
    expect(summary.records).toEqual({ label: 'a\u2028b', labelCodes: [97, 0x2028, 98], waited: true });
  });

  it('SIGTERM to run mid-cell: exit 143, its kernel killed, its 0600 connection file removed', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-proc-'));
    const { runner, kernels } = await startRunner(['run', SLOW, '-o', out], 1, /\] cell 3 ok/);
    const [kernel] = kernels;
    expect(statSync(kernel.connectionFile).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(kernel.connectionFile)).mode & 0o777).toBe(0o700);
    runner.kill('SIGTERM');
    expect(await exitOf(runner)).toEqual({ code: 143, signal: null });
    expect(existsSync(dirname(kernel.connectionFile))).toBe(false);
    expect(await until(() => !alive(kernel.pid), 5000)).toBe(true);
  });

  it('kill -9 of run while a cell keeps the kernel busy: the kernel ends within 10 s and removes its connection file', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-proc-'));
    const { runner, kernels } = await startRunner(['run', SLOW, '-o', out, '-p', 'busy', 'true'], 1, /\] cell 3 ok/);
    const [kernel] = kernels;
    runner.kill('SIGKILL');
    expect(await exitOf(runner)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await until(() => !alive(kernel.pid), 10_000)).toBe(true);
    expect(await until(() => !existsSync(dirname(kernel.connectionFile)), 2000)).toBe(true);
  });

  it('SIGINT to sweep with two kernels running: exit 130, both killed, both connection files removed', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-proc-'));
    const { runner, kernels } = await startRunner(['sweep', SLOW, '--grid', 'label=a,b', '-w', '2', '-o', out], 2, /^/);
    runner.kill('SIGINT');
    expect(await exitOf(runner)).toEqual({ code: 130, signal: null });
    for (const k of kernels) expect(existsSync(dirname(k.connectionFile))).toBe(false);
    expect(await until(() => kernels.every((k) => !alive(k.pid)), 5000)).toBe(true);
  });
});
