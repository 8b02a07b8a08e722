import { vi } from 'vitest';
import { main } from '../../src/cli/main';

/**
 * Runs `quantbook ...args` in this process, capturing stdout and stderr; resolves to the exit code
 * and what was written. Leaves `process.exitCode` unset and the streams unmocked.
 * @example const r = await runCli(['data', 'inspect', file]); r.code // 0
 */
export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'quantbook', ...args]);
    return { code, out, err };
  } finally {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  }
}
