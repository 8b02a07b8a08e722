/**
 * Preloaded into the tslab kernel (`node --require dist/notebook/runner/bindGuard.js tslab kernel ...`,
 * by `KernelClient.start` and by the kernelspec JupyterLab and nbconvert use), this keeps tslab's
 * request loops alive through the bind of its own sockets.
 *
 * tslab 1.0.22 (`ZmqServer.init`) starts its receive loops (`for await (const m of shell)`) and then
 * binds its five sockets at once. zeromq.js 6 refuses any receive on a socket while its bind is in
 * flight (EBUSY, "Socket is blocked by a bind or unbind operation"), and the bind ends on the
 * main thread only after libzmq is already listening, from a worker thread. A client that connects
 * the instant the port opens (ours retries every 10 ms; Jupyter's every 100 ms) gets its request
 * through in between: the loop takes it, asks for the next one, gets EBUSY and ends, printed as an
 * unhandled rejection. The kernel then lives on, all ports bound, never reading shell again: the
 * "silent kernel". Measured with a kernel that starts as tslab does (tests/notebook/fixtures/fake-kernel.cjs),
 * 8 starts at once on a loaded 2-core machine: about 1 start in 100.
 *
 * Here the async iterator of zeromq's sockets (what `for await` uses) waits out EBUSY and asks
 * again, every millisecond, until the bind has ended (or the socket closed). Nothing else changes.
 * zeromq is resolved from the kernel's main script (tslab's own copy); when it cannot be found
 * loading this file does nothing.
 */
import { createRequire } from 'node:module';

/** What the guard needs of zeromq's Socket prototype (its async iterator and `closed`). */
interface IterableSocket {
  closed: boolean;
  [Symbol.asyncIterator](): { next(): Promise<IteratorResult<unknown>> };
}

const GUARDED = Symbol.for('quantbook.bindGuard');

/**
 * Whether `err` is zeromq's refusal to receive while a bind is in flight.
 * @example isBindInFlight(Object.assign(new Error('Socket is blocked by a bind or unbind operation'), { code: 'EBUSY' })) // true
 */
export function isBindInFlight(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'EBUSY' && /blocked by a bind or unbind operation/.test((err as Error).message);
}

/**
 * Makes `for await` over the sockets of `zmq` wait out a bind in flight instead of ending.
 * Installing twice is a no-op.
 * @returns false when `zmq` has no Socket class with an async iterator to guard.
 * @example guardReceiveLoops(require('zeromq')) // true
 */
export function guardReceiveLoops(zmq: { Socket?: { prototype: unknown } }): boolean {
  const proto = zmq.Socket?.prototype as (IterableSocket & { [GUARDED]?: true }) | undefined;
  if (!proto || typeof proto[Symbol.asyncIterator] !== 'function') return false;
  if (proto[GUARDED]) return true;
  const original = proto[Symbol.asyncIterator];
  proto[Symbol.asyncIterator] = function guarded(this: IterableSocket) {
    const inner = original.call(this);
    return {
      next: async () => {
        for (;;) {
          try {
            return await inner.next();
          } catch (err) {
            if (!isBindInFlight(err) || this.closed) throw err;
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
        }
      },
    };
  };
  proto[GUARDED] = true;
  return true;
}

// Only as a preload (`--require <this file>`): importing this module (tests) patches nothing.
if (process.execArgv.includes(__filename) && process.argv[1]) {
  try {
    guardReceiveLoops(createRequire(process.argv[1])('zeromq') as { Socket?: { prototype: unknown } });
  } catch {
    // No zeromq beside the kernel's main script: nothing to guard.
  }
}
