/**
 * Fault injection on every machine: an ENOSPC thrown midway through a file by the write helper's
 * test hook (`outputFaults`, not exported from any index). The commands fail with one line and
 * leave the previous outputs byte-identical, even when the failing file is the last of several.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';
import { outputFaults } from '../../src/core/output';
import { realData } from '../support/paths';

const BTC = realData('crypto-1m', 'UNITTEST_BTC-1m.feather');
const PERP = realData('perp', 'XRP_USDT_USDT-5m-futures.feather');

async function cli(...args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  process.exitCode = undefined;
  try {
    return { code: await main(['node', 'quantbook', ...args]), err };
  } finally {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  }
}

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));
}

/** Makes writes of files whose name matches `target` fail with ENOSPC after 1 KiB; returns the files that failed. */
function injectEnospc(target: RegExp): string[] {
  const failed: string[] = [];
  outputFaults.chunkBytes = 1024;
  outputFaults.beforeWrite = ({ path, offset }) => {
    if (!target.test(basename(path)) || offset < 1024) return;
    failed.push(basename(path));
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  };
  return failed;
}

afterEach(() => {
  outputFaults.beforeWrite = undefined;
  outputFaults.chunkBytes = undefined;
  vi.restoreAllMocks();
});

async function keepsPreviousOutputs(first: string[], second: string[], out: string, target: RegExp): Promise<string[]> {
  expect((await cli(...first)).code).toBe(0);
  const before = snapshot(out);
  const failed = injectEnospc(target);
  const r = await cli(...second);
  expect(snapshot(out)).toEqual(before); // byte-identical; no new file, no temporary file left
  expect(r.code).toBe(1);
  const lines = r.err.trimEnd().split('\n');
  expect(lines.filter((l) => l.startsWith('quantbook:'))).toHaveLength(1);
  expect(lines.at(-1)).toMatch(/^quantbook: OutputError: cannot write: no space left on device \(ENOSPC\); the previous file, if any, is unchanged \(file .+\)$/);
  return failed;
}

describe('injected ENOSPC midway through a write', () => {
  it('data resample keeps the previous output', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-faults-'));
    const target = join(out, 'btc-5m.csv');
    const failed = await keepsPreviousOutputs(['data', 'resample', BTC, target, '--every', '5m'], ['data', 'resample', BTC, target, '--every', '15m'], out, /btc-5m\.csv/);
    expect(failed).toEqual(['btc-5m.csv']);
  });

  it('forecast --out: the summary, written last, fails; the new paths CSV and chart are not left beside the old summary', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-faults-'));
    const args = (seed: string) => ['forecast', '--data', BTC, '--symbol', 'BTC', '--session', '24x7', '--model', 'historical', '--samples', '50', '--seed', seed, '--no-png', '--out', out];
    const failed = await keepsPreviousOutputs(args('1'), args('2'), out, /^pred_summary_/);
    expect(failed).toEqual(['pred_summary_BTC_20171114T230000Z.json']);
  });

  it('backtest --out --compare: compare.json, written last, fails; no new per-forecaster result is left', async () => {
    const out = mkdtempSync(join(tmpdir(), 'qb-faults-'));
    const args = (capital: string) => ['backtest', '--data', PERP, '--class', 'perp', '--days', '1', '--mc', '0', '--compare', 'historical,naive', '--capital', capital, '--out', out];
    const failed = await keepsPreviousOutputs(args('100000'), args('50000'), out, /^compare\.json$/);
    expect(failed).toEqual(['compare.json']);
  });
});
