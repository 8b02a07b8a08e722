/**
 * The kernel's watchdog: preloaded into the kernel process
 * (`node --require dist/notebook/runner/watchdog.js tslab kernel ...`) by
 * `KernelClient.start`, it ends the kernel as soon as the runner that started
 * it is gone, however the runner ended (`kill -9` included), and removes the
 * runner's connection file (it holds the kernel's signing key).
 *
 * How it knows: the runner passes the kernel one end of a pipe (file
 * descriptor 3) and never writes to it; the operating system closes it when
 * the runner dies, and the read here ends. As a second signal the parent pid
 * is polled: a kernel whose parent died is re-parented. Both run in a worker
 * thread, so a cell that keeps the kernel's main thread busy (a long
 * synchronous loop) cannot delay them.
 *
 * Without {@link WATCHDOG_ENV} in the environment (a kernel started by
 * JupyterLab from the kernelspec) loading this file does nothing. The
 * variable is removed on start, so processes a notebook starts never see it.
 */
import { fstatSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { basename } from 'node:path';
import { isMainThread, Worker, workerData } from 'node:worker_threads';

/** Environment variable carrying the {@link WatchdogSpec} as JSON. */
export const WATCHDOG_ENV = 'QUANTBOOK_KERNEL_WATCHDOG';

/** What the runner tells the kernel's watchdog. */
export interface WatchdogSpec {
  /** File descriptor of the kernel's end of the pipe whose other end the runner holds. */
  fd: number;
  /** The runner's pid (the kernel's parent). */
  parent: number;
  /** The runner's private folder of the connection file, removed when the runner is gone. */
  connectionDir: string;
  /** How often to poll the parent pid, in milliseconds. */
  pollMs: number;
}

function watch(spec: WatchdogSpec): void {
  let ending = false;
  const end = () => {
    if (ending) return;
    ending = true;
    try {
      // Only a folder the runner made (KernelClient.start's mkdtemp prefix).
      // Retried: the kernel's main thread may be writing a file into it right now (the compile
      // cache's counts after each cell), which leaves the folder not empty once.
      if (basename(spec.connectionDir).startsWith('quantbook-kernel-')) rmSync(spec.connectionDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 5 });
    } finally {
      process.kill(process.pid, 'SIGKILL');
    }
  };
  if (process.ppid !== spec.parent) end(); // the runner died while the kernel started
  try {
    // The runner passes a socket pair end; anything else on that descriptor is not ours to read.
    const stat = fstatSync(spec.fd);
    if (!stat.isSocket() && !stat.isFIFO()) throw new Error(`fd ${spec.fd} is not a pipe`);
    const pipe = new Socket({ fd: spec.fd, readable: true, writable: false });
    pipe.on('end', end);
    pipe.on('close', end);
    pipe.on('error', end);
    pipe.resume();
  } catch {
    // No such descriptor: the parent pid poll below still ends the kernel.
  }
  setInterval(() => {
    if (process.ppid !== spec.parent) end();
  }, spec.pollMs);
}

if (isMainThread) {
  const raw = process.env[WATCHDOG_ENV];
  if (raw !== undefined) {
    delete process.env[WATCHDOG_ENV];
    const spec = JSON.parse(raw) as WatchdogSpec;
    // unref: the watchdog never keeps a kernel alive that would otherwise exit.
    new Worker(__filename, { workerData: { quantbookKernelWatchdog: spec } }).unref();
  }
} else {
  const spec = (workerData as { quantbookKernelWatchdog?: WatchdogSpec } | null)?.quantbookKernelWatchdog;
  if (spec) watch(spec);
}
