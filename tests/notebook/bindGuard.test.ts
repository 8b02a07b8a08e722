import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guardBinds } from '../../src/notebook/runner/bindGuard';
import { defaultKernelArgv } from '../../src/notebook/runner/kernel';
import { REPO_ROOT } from '../support/paths';

/** zeromq-like classes: `bind` leaves a socket busy until a later turn, as zeromq 6's does. */
function fakeZmq() {
  class Socket {
    busy = false;
    bound: string[] = [];
    bind(address: string): Promise<void> {
      this.busy = true;
      return new Promise((resolve) => setTimeout(() => {
        this.busy = false;
        this.bound.push(address);
        resolve();
      }, 5));
    }
    bindSync(address: string): void {
      if (address.endsWith(':1')) throw Object.assign(new Error('Address already in use'), { code: 'EADDRINUSE' });
      this.bound.push(address);
    }
  }
  class Router extends Socket {}
  class Publisher extends Socket {}
  return { Socket, Router, Publisher, version: '6' };
}

describe('the bind guard preloaded into tslab', () => {
  it('binds on the calling thread: the socket is never busy after bind() returns, errors still reject', async () => {
    const unguarded = new (fakeZmq().Router)();
    const p = unguarded.bind('tcp://127.0.0.1:5');
    expect(unguarded.busy).toBe(true); // zeromq's window: sends and receives throw EBUSY here
    await p;

    const zmq = fakeZmq();
    expect(guardBinds(zmq)).toBe(2);
    expect(guardBinds(zmq)).toBe(2); // twice: no double wrapping
    const sock = new zmq.Router();
    const bound = sock.bind('tcp://127.0.0.1:5');
    expect(sock.busy).toBe(false);
    expect(sock.bound).toEqual(['tcp://127.0.0.1:5']);
    await bound;
    await expect(sock.bind('tcp://127.0.0.1:1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(guardBinds({})).toBe(0);
  });

  it('lets a real zeromq socket send at once after bind(), which zeromq alone refuses (in a fresh process)', () => {
    const script = `
      const zmq = require('zeromq');
      const before = new zmq.Publisher(); before.bind('tcp://127.0.0.1:*');
      let unguarded = 'sent'; try { void before.send('x'); } catch (e) { unguarded = e.code; }
      require(${JSON.stringify(join(REPO_ROOT, 'dist/notebook/runner/bindGuard.js'))}).guardBinds(zmq);
      const after = new zmq.Publisher(); after.bind('tcp://127.0.0.1:*');
      let guarded = 'sent'; try { void after.send('x'); } catch (e) { guarded = e.code; }
      console.log(unguarded, guarded, /^tcp:\\/\\/127\\.0\\.0\\.1:\\d+$/.test(after.lastEndpoint));
      setTimeout(() => { before.close(); after.close(); }, 20);`;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    expect(out).toBe('EBUSY sent true');
  });

  it('is preloaded into the default kernel command and guards that process\'s zeromq, only as a preload', () => {
    const argv = defaultKernelArgv();
    expect(argv[1]).toBe('--require');
    expect(argv[2]).toMatch(/bindGuard\.js$/);
    const probe = join(REPO_ROOT, 'tests/notebook/fixtures/zmq-guarded.cjs');
    const run = (pre: string[]) => execFileSync(process.execPath, [...pre, probe], { encoding: 'utf8' }).trim();
    expect(run(['--require', argv[2]])).toBe('true');
    expect(run([])).toBe('false');
  });

  it('says on stderr when the kernel it is preloaded into has no zeromq to guard', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qb-guard-'));
    const lonely = join(dir, 'main.js');
    writeFileSync(lonely, '');
    const r = spawnSync(process.execPath, ['--require', defaultKernelArgv()[2], lonely], { encoding: 'utf8' });
    rmSync(dir, { recursive: true });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^quantbook bindGuard: no zeromq beside .*main\.js .*; this kernel binds unguarded\n$/);
  });
});
