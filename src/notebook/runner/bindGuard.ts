/**
 * Preloaded into the tslab kernel (`node --require dist/notebook/runner/bindGuard.js tslab kernel ...`,
 * by `KernelClient.start` and by the kernelspec JupyterLab and nbconvert use), this makes the
 * kernel bind its sockets on its main thread.
 *
 * tslab 1.0.22 (`ZmqServer.init`) starts its receive loops (`for await (const m of shell)`) and then
 * binds its five sockets at once. zeromq.js 6 runs each `bind()` on a libuv worker thread and
 * marks the socket busy until the bind's completion reaches the main thread; meanwhile it refuses
 * every send and receive (EBUSY, "Socket is blocked by a bind or unbind operation"), and its main
 * thread may still poll the same libzmq socket, which is not thread-safe, when a peer connects.
 * A client that connects the instant a port opens (ours retries every 10 ms, Jupyter's every
 * 100 ms) lands in that window: tslab's shell loop gets EBUSY and ends, or its status messages on
 * iopub throw before any reply is sent, and tslab, which only prints unhandled rejections, lives
 * on with its ports bound and never answers: the "silent kernel". Seen in real tslab starts with
 * a socket whose bind never completed (iopub not listening after 60 s, every request failing on
 * the busy iopub) and with all five bound but no request answered.
 *
 * Here `bind()` calls zeromq's own `bindSync()`: libzmq binds on the main thread, the socket is
 * never seen busy, and nothing touches it from two threads. Binding a numeric loopback address
 * takes microseconds. The returned promise settles as before (rejected with zeromq's error, e.g.
 * EADDRINUSE). zeromq is resolved from the kernel's main script (tslab's own copy); when it cannot
 * be found, or has no socket class to guard, the kernel runs unguarded and one line on stderr says so
 * (`quantbook bindGuard: ...`), which the kernel's stderr tail in our start errors then shows.
 */
import { createRequire } from 'node:module';

/** What the guard needs of zeromq's Socket prototype. */
interface BindableSocket {
  bind(address: string): Promise<void>;
  bindSync(address: string): void;
}

const GUARDED = Symbol.for('quantbook.bindGuard');

/**
 * Makes `bind()` of the socket classes of `zmq` (Router, Publisher, Reply, ...: every exported
 * subclass of `zmq.Socket`) bind synchronously on the calling (main) thread, through zeromq's
 * `bindSync()`. zeromq's own `Socket.prototype.bind` is read-only, so each subclass's prototype
 * gets its own `bind`. Installing twice is a no-op.
 * @returns how many socket classes are guarded (0 when `zmq` has no Socket class with `bindSync`).
 * @example guardBinds(require('zeromq')) // 12
 */
export function guardBinds(zmq: Record<string, unknown>): number {
  if (typeof zmq.Socket !== 'function') return 0;
  const Socket = zmq.Socket as (new () => object) & { prototype: BindableSocket };
  if (typeof Socket.prototype.bindSync !== 'function') return 0;
  let guarded = 0;
  for (const value of Object.values(zmq)) {
    const proto = (typeof value === 'function' ? (value as { prototype: unknown }).prototype : undefined) as (BindableSocket & { [GUARDED]?: true }) | undefined;
    if (proto === undefined || proto === Socket.prototype || !(proto instanceof Socket)) continue;
    if (!proto[GUARDED]) {
      Object.defineProperty(proto, 'bind', {
        configurable: true,
        writable: true,
        value: function bindOnMainThread(this: BindableSocket, address: string): Promise<void> {
          try {
            this.bindSync(address);
            return Promise.resolve();
          } catch (err) {
            return Promise.reject(err as Error);
          }
        },
      });
      Object.defineProperty(proto, GUARDED, { value: true });
    }
    guarded++;
  }
  return guarded;
}

// Only as a preload (`--require <this file>`): importing this module (tests) patches nothing.
if (process.execArgv.includes(__filename) && process.argv[1]) {
  let guarded = 0;
  let why = 'zeromq has no socket class with bindSync';
  try {
    guarded = guardBinds(createRequire(process.argv[1])('zeromq') as Record<string, unknown>);
  } catch (err) {
    why = `no zeromq beside ${process.argv[1]} (${(err as Error).message.split('\n')[0]})`;
  }
  if (guarded === 0) process.stderr.write(`quantbook bindGuard: ${why}; this kernel binds unguarded\n`);
}
