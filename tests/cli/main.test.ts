import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(__dirname, '..', '..', 'bin', 'quantbook.js');

describe('quantbook command line', () => {
  it('prints help that names the program and exits 0', () => {
    const out = execFileSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(out).toMatch(/Usage: quantbook/);
  });

  it('rejects an unknown command with one line and exit code 1, without a stack trace', () => {
    const r = spawnSync(process.execPath, [bin, 'no-such-command'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/error: (unknown command|too many arguments)/);
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(r.stderr).not.toMatch(/    at /);
  });
});
