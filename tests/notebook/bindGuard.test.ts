import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultKernelArgv } from '../../src/notebook/runner/kernel';
import { REPO_ROOT } from '../support/paths';
import { guardReceiveLoops, isBindInFlight } from '../../src/notebook/runner/bindGuard';

const busy = () => Object.assign(new Error('Socket is blocked by a bind or unbind operation'), { code: 'EBUSY', errno: 16 });

/** A socket class whose receive fails as zeromq 6's does while a bind is in flight, `busyFor` times after the first message. */
function fakeZmq(busyFor: number) {
  class Socket {
    closed = false;
    received: string[] = ['first', 'second', 'third'];
    busyLeft = busyFor;
    [Symbol.asyncIterator]() {
      let n = 0;
      return {
        next: async (): Promise<IteratorResult<string>> => {
          if (n > 0 && this.busyLeft > 0) {
            this.busyLeft--;
            throw busy();
          }
          const value = this.received[n++];
          return value === undefined ? { done: true, value: undefined } : { done: false, value };
        },
      };
    }
  }
  return { Socket };
}

async function drain(sock: AsyncIterable<string>): Promise<string[]> {
  const got: string[] = [];
  for await (const m of sock) got.push(m);
  return got;
}

describe('the bind guard preloaded into tslab', () => {
  it('keeps a request loop reading through EBUSY while its socket binds (tslab\'s loop would end)', async () => {
    const unguarded = fakeZmq(3);
    await expect(drain(new unguarded.Socket())).rejects.toThrow(/blocked by a bind/);

    const zmq = fakeZmq(3);
    expect(guardReceiveLoops(zmq)).toBe(true);
    expect(guardReceiveLoops(zmq)).toBe(true); // twice: no double wrapping
    const sock = new zmq.Socket();
    expect(await drain(sock)).toEqual(['first', 'second', 'third']);
    expect(sock.busyLeft).toBe(0);
  });

  it('lets other errors, and EBUSY on a closed socket, end the loop', async () => {
    const zmq = fakeZmq(1);
    guardReceiveLoops(zmq);
    const closed = new zmq.Socket();
    closed.closed = true;
    await expect(drain(closed)).rejects.toThrow(/blocked by a bind/);
    expect(isBindInFlight(busy())).toBe(true);
    expect(isBindInFlight(Object.assign(new Error('Socket is busy reading'), { code: 'EBUSY' }))).toBe(false);
    expect(isBindInFlight(Object.assign(new Error('Socket is blocked by a bind or unbind operation'), { code: 'EAGAIN' }))).toBe(false);
    expect(guardReceiveLoops({})).toBe(false);
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
});
