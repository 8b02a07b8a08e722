import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandAreas, registrationsFor } from '../../src/cli/commands';

const bin = join(__dirname, '..', '..', 'bin', 'quantbook.js');

describe('quantbook command line', () => {
  it('prints help that names the program and every command, and exits 0', () => {
    const out = execFileSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(out).toMatch(/Usage: quantbook/);
    const listed = [...out.matchAll(/^  (\w+) /gm)].map((m) => m[1]).filter((c) => c !== 'help');
    expect(listed).toEqual(commandAreas.flatMap((a) => a.commands));
  });

  it('loads only the area of the command it runs; help, a typo or nothing load them all', async () => {
    expect(await registrationsFor(['node', 'quantbook', 'run', 'nb.ipynb'])).toHaveLength(1);
    expect(await registrationsFor(['node', 'quantbook', '--debug', 'backtest', '--help'])).toHaveLength(1);
    for (const argv of [['node', 'quantbook'], ['node', 'quantbook', '--help'], ['node', 'quantbook', 'runn']]) {
      expect(await registrationsFor(argv)).toHaveLength(commandAreas.length);
    }
    const r = spawnSync(process.execPath, [bin, 'data', 'inspect', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: quantbook data inspect/);
  });

  it('rejects an unknown command with one line and exit code 1, without a stack trace', () => {
    const r = spawnSync(process.execPath, [bin, 'no-such-command'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/error: (unknown command|too many arguments)/);
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(r.stderr).not.toMatch(/    at /);
  });
});

describe('a reader that closes the pipe early', () => {
  it('quantbook --help | head -1 ends quietly with exit 0, not an EPIPE stack trace', () => {
    const bin = join(__dirname, '..', '..', 'bin', 'quantbook.js');
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${bin}" data fetch --help | head -1`], { encoding: 'utf8' });
    expect(r.stdout).toBe('Usage: quantbook data fetch [options]\n');
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(r.status).toBe(0);
  });
});
