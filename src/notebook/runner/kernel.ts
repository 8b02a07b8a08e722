/**
 * A Jupyter client for one tslab kernel process: it writes a connection file,
 * starts the kernel, and speaks the wire protocol over ZeroMQ itself (shell and
 * control on Dealer sockets, iopub on a Subscriber, heartbeat on a Request).
 *
 * Why not a library: the protocol surface we need is small (kernel_info,
 * execute, interrupt, shutdown) and tslab deviates from it in ways a generic
 * client hides: no `error` or `execute_result` messages, errors only on stderr,
 * and no `interrupt_request` handler (interrupts are signals, the kernelspec's
 * default `interrupt_mode`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { Dealer, Request, Subscriber } from 'zeromq';
import { NotebookError } from '../../core/errors';
import { setLongTimeout, sleep, type LongTimer } from './timers';
import { WATCHDOG_ENV, type WatchdogSpec } from './watchdog';
import { CODE_CACHE_ENV, type CodeCacheReport, type CodeCacheSpec } from './codeCache';
import { COMPILE_CACHE_ENV, COMPILE_CACHE_SWITCH, type CompileCacheSpec } from './compileCache';
import type { CompileCacheReport } from './compileStore';
import { kernelCodeCacheDir, kernelCompileCacheDir, preloadScript, readCodeCacheReport, readCompileCacheReport, withPreloads } from './preloads';
import { discardSnapshot, kernelSnapshot, kernelSnapshotDir, readSnapshotReport } from './snapshot';
import { SNAPSHOT_KERNEL_ENV, type SnapshotKernelSpec, type SnapshotKernelReport } from './snapshotEntry';
import { decodeMessage, encodeMessage, WireError, type JupyterMessage } from './wire';
import { leaseKernelPorts, listeningPorts, type PortLease } from './ports';
import { removeConnectionDir, trackChild, writeConnectionFile } from './kernelProcesses';
import type { Output } from '../records/nbformat';
import { OutputCollector } from './outputs';
import type { CellOutcome, ExecuteOptions, ExecuteResult, KernelOptions, KernelSnapshotUse } from './kernelTypes';

/**
 * The default argv: this package's tslab under the current Node binary (no PATH lookup), with the
 * bind guard preloaded (`bindGuard.ts`: without it tslab may stop reading requests for good when
 * one arrives while it binds its ports).
 * @example defaultKernelArgv()
 * // ['/usr/bin/node', '--require', '.../bindGuard.js', '.../node_modules/tslab/bin/tslab', 'kernel', '--config-path', '{connection_file}']
 */
export function defaultKernelArgv(): string[] {
  let tslabMain: string;
  try {
    tslabMain = require.resolve('tslab/bin/tslab');
  } catch {
    throw new NotebookError('the tslab kernel is not installed (run npm install in the quantbook folder)');
  }
  return [process.execPath, '--require', preloadScript('bindGuard.js'), tslabMain, 'kernel', '--config-path', '{connection_file}'];
}

/** How often a kernel's watchdog polls its parent pid (the pipe usually tells it first). */
const WATCHDOG_POLL_MS = 500;

// Every wait here may come from a user's flag (--start-timeout): never a bare setTimeout.
const delay = sleep;

interface Pending {
  msgId: string;
  reply?: JupyterMessage;
  idle: boolean;
  collector?: OutputCollector;
  settle: () => void;
}

/** A kernel alive but silent past its start-up timeout, or sure to stay so (retried by {@link KernelClient.start}). */
class SilentKernelError extends NotebookError {}

/** A kernel that exited before it answered (retried without the startup snapshot when it had one). */
class ExitedAtStartError extends NotebookError {}

/**
 * What tslab prints (as an unhandled rejection, staying alive) when it can never answer: seen on
 * stderr, the start is given up at once instead of after `startTimeoutMs`.
 */
const SERVING_FAILURES: ReadonlyArray<{ pattern: RegExp; why: string }> = [
  { pattern: /\bEADDRINUSE\b|Address already in use/, why: 'another process took one of its ports before it bound them' },
  { pattern: /Socket is blocked by a bind or unbind operation\s+at Object\.next\b/, why: 'its request loop ended on a request that came while it bound its ports' },
];

/** One running kernel. Create with {@link KernelClient.start}; always {@link KernelClient.shutdown}. */
export class KernelClient {
  /** Milliseconds from spawn to the first kernel_info_reply with iopub connected. */
  startupMs = 0;
  /** When the kernel was spawned (epoch milliseconds). */
  spawnedAt = 0;
  /** kernel_info_reply content. */
  kernelInfo: Record<string, unknown> = {};
  /** Kernels started before this one that stayed silent and were killed (see `silentRetries`). */
  silentStarts = 0;
  /** Messages rejected for a bad signature or framing (never acted upon). */
  rejectedMessages = 0;
  /** What the kernel's code cache did (`codeCache.ts`); undefined without one or when it said nothing. */
  codeCache?: CodeCacheReport;
  /** What the start did with the startup snapshot; undefined when none was asked for (`argv` given, `snapshot: false`). */
  snapshot?: KernelSnapshotUse;

  private readonly session = randomUUID();
  private readonly pending = new Map<string, Pending>();
  private readonly displays = new Map<string, Output[]>();
  private exit: { code: number | null; signal: string | null } | null = null;
  private exitWaiters: Array<() => void> = [];
  private stderrTail = '';
  private snapshotReport?: SnapshotKernelReport;
  private compileCacheReport?: string;
  private servingFailure: string | null = null;
  private failureWaiters: Array<() => void> = [];
  private closed = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly key: string,
    private readonly connDir: string,
    private readonly shell: Dealer,
    private readonly control: Dealer,
    private readonly iopub: Subscriber,
    private readonly heartbeatSocket: Request,
    private readonly notebook: string | undefined,
    /** The kernel's ports, in connection-file order (shell, iopub, stdin, control, hb), leased while it lives. */
    private readonly lease: PortLease,
  ) {}

  /** The last 4000 characters the kernel wrote to stdout and stderr (diagnostics). */
  get outputTail(): string {
    return this.stderrTail;
  }

  /**
   * Starts a kernel and resolves once it answered kernel_info on shell and its
   * iopub status reached us (so no output of the first cell can be lost).
   * tslab stays alive, idle and silent when its start-up fails: when a port of its connection file
   * was taken by another process before it bound it (prevented by leasing ports outside the
   * ephemeral range, `ports.ts`), or when a request reached its shell socket while that was still
   * binding (prevented by the preloaded `bindGuard.ts`). Both were measured on a loaded 2-core
   * machine at about 1 start in 100 (scripts/kernel-start-stress.ts). A kernel that prints such a
   * failure is given up at once; one alive but silent past `startTimeoutMs` is given up then; either
   * is killed and a fresh one started on new ports, up to `silentRetries` times, counted in
   * `silentStarts` and said on stderr.
   * @throws NotebookError when the kernel cannot be spawned, exits, or stays silent past
   *   `startTimeoutMs` on every try.
   * @example const kernel = await KernelClient.start({ cwd: 'notebooks', notebook: 'notebooks/a.ipynb' });
   */
  static async start(opts: KernelOptions): Promise<KernelClient> {
    const retries = opts.silentRetries ?? 1;
    const snap = opts.argv === undefined && (opts.snapshot ?? true) ? kernelSnapshot(opts.snapshotDir ?? kernelSnapshotDir()) : undefined;
    const blob = snap?.state === 'ready' ? snap.blob : undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        const client = await KernelClient.startOnce(opts, blob);
        client.silentStarts = attempt;
        if (snap) {
          client.snapshot = snap.state === 'ready'
            ? { state: 'used', ...(client.snapshotReport ? { report: client.snapshotReport } : {}) }
            : { state: snap.state, ...(snap.state === 'unavailable' ? { reason: snap.reason } : {}) };
        }
        return client;
      } catch (err) {
        if (blob !== undefined && err instanceof ExitedAtStartError) {
          // Node refused the blob, or the kernel is broken for another reason (a failing preload, a
          // broken install): only a kernel that starts without the blob proves it was the blob, which
          // is then removed for good. A start that fails without it too throws its own error; the blob stays.
          const client = await KernelClient.start({ ...opts, snapshot: false });
          process.stderr.write(`quantbook: the kernel exited at start-up from the snapshot ${blob} (${err.message}) and started without it; removed it (kernels start without a snapshot until a file it holds changes)\n`);
          discardSnapshot(blob, err.message);
          client.snapshot = { state: 'refused' };
          return client;
        }
        if (!(err instanceof SilentKernelError) || attempt >= retries) throw err;
        process.stderr.write(`quantbook: ${err.message}; killed it, starting a fresh kernel on new ports (retry ${attempt + 1} of ${retries})\n`);
      }
    }
  }

  private static async startOnce(opts: KernelOptions, snapshotBlob: string | undefined): Promise<KernelClient> {
    const t0 = performance.now();
    const spawnedAt = Date.now();
    const preloaded = withPreloads(opts.argv ?? defaultKernelArgv(), { codeCache: opts.codeCache ?? true, compileCache: compileCacheOn(opts) });
    const node = preloaded.node;
    const fromSnapshot = node && snapshotBlob !== undefined;
    const command = fromSnapshot ? [preloaded.argv[0], '--snapshot-blob', snapshotBlob, ...preloaded.argv.slice(1)] : preloaded.argv;
    const cached = node && (opts.codeCache ?? true);
    const compileCached = node && compileCacheOn(opts);
    // Not system-chosen ports (listen on 0, close): another process may get one of those before
    // the kernel binds it, seconds later, and tslab then stays silent (see ports.ts).
    const lease = await leaseKernelPorts(5);
    const [shellPort, iopubPort, stdinPort, controlPort, hbPort] = lease.ports;
    const key = randomBytes(32).toString('hex');
    let connection: { dir: string; file: string };
    try {
      connection = writeConnectionFile({
        transport: 'tcp', ip: '127.0.0.1', shell_port: shellPort, iopub_port: iopubPort,
        stdin_port: stdinPort, control_port: controlPort, hb_port: hbPort,
        signature_scheme: 'hmac-sha256', key, kernel_name: 'tslab',
      });
    } catch (err) {
      lease.release();
      throw err;
    }
    const { dir: connDir, file: connFile } = connection;
    const argv = command.map((a) => a.replace('{connection_file}', connFile));
    // fd 3 is the watchdog's pipe: we never write to it; it closes when this process dies.
    const watchdog: WatchdogSpec = { fd: 3, parent: process.pid, connectionDir: connDir, pollMs: WATCHDOG_POLL_MS };
    const codeCacheReport = join(connDir, 'code-cache.json');
    const codeCache: CodeCacheSpec = { dir: opts.codeCacheDir ?? kernelCodeCacheDir(), reportFile: codeCacheReport };
    const compileCacheSpec: CompileCacheSpec = { dir: opts.compileCacheDir ?? kernelCompileCacheDir(), reportFile: join(connDir, 'compile-cache.json') };
    const snapshotReport = join(connDir, 'snapshot.json');
    const snapshotSpec: SnapshotKernelSpec = { reportFile: snapshotReport };
    const child = spawn(argv[0], argv.slice(1), {
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        [WATCHDOG_ENV]: JSON.stringify(watchdog),
        ...(cached ? { [CODE_CACHE_ENV]: JSON.stringify(codeCache) } : {}),
        ...(compileCached ? { [COMPILE_CACHE_ENV]: JSON.stringify(compileCacheSpec) } : {}),
        ...(fromSnapshot ? { [SNAPSHOT_KERNEL_ENV]: JSON.stringify(snapshotSpec) } : {}),
      },
    });
    trackChild(child);
    opts.onSpawn?.();
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

    const addr = (port: number) => `tcp://127.0.0.1:${port}`;
    // The kernel binds its ports a few seconds after spawn; retry connecting
    // every 10 ms (ZeroMQ's default is 100 ms) so no time is lost once it has.
    const fast = { linger: 0, reconnectInterval: 10 };
    const shell = new Dealer(fast);
    const control = new Dealer(fast);
    const iopub = new Subscriber(fast);
    const hb = new Request({ ...fast, relaxed: true, correlate: true });
    shell.connect(addr(shellPort));
    control.connect(addr(controlPort));
    iopub.connect(addr(iopubPort));
    iopub.subscribe();
    hb.connect(addr(hbPort));

    const client = new KernelClient(child, key, connDir, shell, control, iopub, hb, opts.notebook, lease);
    if (compileCached) client.compileCacheReport = compileCacheSpec.reportFile;
    client.watchProcess();
    void client.readLoop(shell);
    void client.readLoop(control);
    void client.readLoop(iopub);

    const timeoutMs = opts.startTimeoutMs ?? 60_000;
    const ready = client.waitReady(timeoutMs);
    const failed = spawnError.then((err) => {
      throw new NotebookError(`cannot start the kernel (${argv[0]}): ${err.message}`, { file: opts.notebook });
    });
    try {
      await Promise.race([ready, failed]);
    } catch (err) {
      await client.kill();
      throw err;
    }
    client.startupMs = performance.now() - t0;
    client.spawnedAt = spawnedAt;
    if (cached) client.codeCache = readCodeCacheReport(codeCacheReport);
    if (fromSnapshot) client.snapshotReport = readSnapshotReport(snapshotReport);
    return client;
  }

  /**
   * What the kernel's compile cache (`compileCache.ts`) did with the cells run so far; undefined
   * without one, or before its first cell (it writes its counts after every cell).
   * @example (await kernel.execute('1 + 1'), kernel.compileCache()) // { hits: 1, misses: 0, ... }
   */
  compileCache(): CompileCacheReport | undefined {
    return this.compileCacheReport === undefined ? undefined : readCompileCacheReport(this.compileCacheReport);
  }

  /** Whether the kernel process has exited. */
  get isDead(): boolean {
    return this.exit !== null;
  }

  private watchProcess(): void {
    const keep = (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4000);
      const failure = this.servingFailure === null ? SERVING_FAILURES.find((f) => f.pattern.test(this.stderrTail)) : undefined;
      if (failure) {
        this.servingFailure = failure.why;
        for (const w of this.failureWaiters.splice(0)) w();
      }
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.child.once('exit', (code, signal) => {
      this.exit = { code, signal };
      for (const w of this.exitWaiters.splice(0)) w();
      for (const p of this.pending.values()) p.settle();
    });
  }

  private async readLoop(sock: Dealer | Subscriber): Promise<void> {
    try {
      for await (const frames of sock) {
        let msg: JupyterMessage;
        try {
          msg = decodeMessage(this.key, frames);
        } catch (err) {
          if (err instanceof WireError) {
            this.rejectedMessages++;
            continue;
          }
          throw err;
        }
        this.dispatch(msg, sock === this.iopub);
      }
    } catch (err) {
      if (!this.closed) throw err;
    }
  }

  private dispatch(msg: JupyterMessage, fromIopub: boolean): void {
    const parentId = msg.parentHeader.msg_id;
    const p = parentId === undefined ? undefined : this.pending.get(parentId);
    if (!p) return; // answers to requests we stopped waiting for (e.g. spare kernel_info probes)
    if (!fromIopub) {
      p.reply = msg;
    } else if (msg.header.msg_type === 'status') {
      if ((msg.content as { execution_state?: string }).execution_state === 'idle') p.idle = true;
    } else if (p.collector) {
      p.collector.add(msg, this.displays);
    }
    p.settle();
  }

  private waitFor(msgId: string, collector?: OutputCollector): { pending: Pending; done: Promise<void> } {
    let settle!: () => void;
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const pending: Pending = { msgId, idle: false, collector, settle: () => undefined };
    pending.settle = () => {
      if ((pending.reply && pending.idle) || this.exit) settle();
    };
    this.pending.set(msgId, pending);
    return { pending, done };
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const probes: Pending[] = [];
    let ready = false;
    // Re-send kernel_info until one is answered on shell AND its status came on
    // iopub: that proves the subscription is live (ZeroMQ's slow joiner).
    while (!ready) {
      if (this.exit) {
        const tail = this.stderrTail.trim().slice(-600);
        throw new ExitedAtStartError(
          `kernel exited during start-up (exit code ${this.exit.code}, signal ${this.exit.signal})${tail ? `: ${tail}` : ''}`,
          { file: this.notebook },
        );
      }
      if (this.servingFailure !== null) {
        const tail = this.stderrTail.trim().slice(-300);
        throw new SilentKernelError(`kernel can never answer: ${this.servingFailure} (${this.portsSaid()}; its stderr: ${tail})`, { file: this.notebook });
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        const tail = this.stderrTail.trim().slice(-300);
        throw new SilentKernelError(
          `kernel did not answer kernel_info within ${timeoutMs} ms (${this.portsSaid()}${tail ? `; its stderr: ${tail}` : ''})`,
          { file: this.notebook },
        );
      }
      const { frames, header } = encodeMessage(this.key, this.session, 'kernel_info_request', {});
      probes.push(this.waitFor(header.msg_id).pending);
      // A send can wait for the connection; never past the deadline (closing the socket rejects it).
      const sent = this.shell.send(frames);
      sent.catch(() => undefined);
      await Promise.race([sent, delay(remaining), this.exited(), this.failed()]);
      await Promise.race([delay(probes.length < 10 ? 50 : 200), this.failed()]);
      const answered = probes.find((p) => p.reply && p.idle);
      if (answered) {
        this.kernelInfo = answered.reply!.content;
        ready = true;
      }
    }
    for (const p of probes) this.pending.delete(p.msgId);
  }

  /**
   * Runs `code` and resolves when both the execute_reply and the iopub idle
   * status for it arrived, the timeout fired, or the kernel died. Never throws
   * for a failing cell: the outcome says what happened.
   */
  async execute(code: string, opts: ExecuteOptions = {}): Promise<ExecuteResult> {
    const t0 = performance.now();
    const collector = new OutputCollector();
    const { frames, header } = encodeMessage(this.key, this.session, 'execute_request', {
      code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true,
    });
    const { pending, done } = this.waitFor(header.msg_id, collector);
    const finish = (outcome: CellOutcome): ExecuteResult => {
      this.pending.delete(header.msg_id);
      const count = pending.reply?.content.execution_count;
      return {
        outcome,
        executionCount: typeof count === 'number' ? count : null,
        outputs: collector.outputs,
        durationMs: performance.now() - t0,
      };
    };
    const died = (): CellOutcome => ({
      kind: 'kernel-died',
      exitCode: this.exit!.code,
      signal: this.exit!.signal,
      errorText: `${collector.stderr}${this.stderrTail}`.trim(),
    });
    if (this.exit) return finish(died());
    await this.shell.send(frames);

    const timeoutMs = opts.timeoutMs ?? 0;
    let timer: LongTimer | undefined;
    const timedOut = timeoutMs > 0
      ? new Promise<'timeout'>((resolve) => { timer = setLongTimeout(() => resolve('timeout'), timeoutMs); })
      : new Promise<'timeout'>(() => undefined);
    const first = await Promise.race([done.then(() => 'done' as const), timedOut]);
    timer?.clear();

    if (first === 'timeout') {
      this.interrupt();
      const grace = opts.interruptGraceMs ?? 5000;
      const stopped = await Promise.race([done.then(() => true), delay(grace).then(() => false)]);
      if (!stopped || this.exit) await this.kill();
      return finish({
        kind: 'timeout',
        timeoutMs,
        stoppedBy: stopped && !this.exit ? 'interrupt' : 'kill',
        errorText: collector.stderr.trim(),
      });
    }
    if (this.exit) return finish(died());
    const status = (pending.reply!.content as { status?: string }).status;
    if (status === 'ok') return finish({ kind: 'ok' });
    return finish({ kind: 'error', errorText: collector.stderr.trim() || `execute_reply status ${String(status)}` });
  }

  /**
   * Asks for completions at the end of `code` (complete_request) and waits for the answer.
   * Runs nothing: no execution count, no output, no kernel state; tslab answers it from the
   * same TypeScript program it compiles cells with, so the `import`s of `code` are resolved
   * and their declaration files parsed, which the first cell then finds done.
   * @returns false when the kernel did not answer within `timeoutMs` (default 60 000) or is gone.
   * @example await kernel.complete("import { show } from '../dist/notebook';\n") // true
   */
  async complete(code: string, timeoutMs = 60_000): Promise<boolean> {
    if (this.exit) return false;
    const { frames, header } = encodeMessage(this.key, this.session, 'complete_request', { code, cursor_pos: [...code].length }); // code points, as the protocol counts
    const { pending, done } = this.waitFor(header.msg_id);
    try {
      await this.shell.send(frames);
      await Promise.race([done, delay(timeoutMs)]);
      return pending.reply !== undefined && pending.idle;
    } finally {
      this.pending.delete(header.msg_id);
    }
  }

  /**
   * Interrupts the running cell. tslab has no interrupt_request handler, so
   * this is the kernelspec's default `interrupt_mode: signal` (SIGINT), which
   * tslab turns into a thrown error in synchronous code (`breakOnSigint`) and
   * a rejected await in asynchronous code.
   * @example kernel.interrupt() // the running cell ends with status error, 'interrupted'
   */
  interrupt(): void {
    if (!this.exit) this.child.kill('SIGINT');
  }

  /**
   * One heartbeat round trip.
   * @returns true when the kernel echoed within `timeoutMs` (default 2000).
   */
  async heartbeat(timeoutMs = 2000): Promise<boolean> {
    if (this.exit) return false;
    const ping = Buffer.from(randomUUID());
    try {
      await this.heartbeatSocket.send(ping);
      const echo = await Promise.race([this.heartbeatSocket.receive(), delay(timeoutMs).then(() => null)]);
      return echo !== null && Buffer.compare(echo[0], ping) === 0;
    } catch {
      return false;
    }
  }

  /**
   * Asks for a clean shutdown on the control channel, waits for the process to
   * exit, and kills it if it does not within `graceMs` (default 3000).
   */
  async shutdown(graceMs = 3000): Promise<void> {
    if (!this.exit && !this.closed) {
      const { frames, header } = encodeMessage(this.key, this.session, 'shutdown_request', { restart: false });
      const { done } = this.waitFor(header.msg_id);
      await this.control.send(frames);
      await Promise.race([done, delay(graceMs)]);
      this.pending.delete(header.msg_id);
      await Promise.race([this.exited(), delay(graceMs)]);
    }
    await this.kill();
  }

  /** Kills the process (SIGKILL) if alive and releases sockets and the connection file. */
  async kill(): Promise<void> {
    if (!this.exit && this.child.pid !== undefined) {
      this.child.kill('SIGKILL');
      await Promise.race([this.exited(), delay(5000)]);
    }
    if (this.closed) return;
    this.closed = true;
    for (const s of [this.shell, this.control, this.iopub, this.heartbeatSocket]) s.close();
    (this.child.stdio[3] as Socket | null)?.destroy();
    removeConnectionDir(this.connDir);
    this.lease.release();
  }

  /** Resolves once the kernel's output says it can never answer (`SERVING_FAILURES`). */
  private failed(): Promise<void> {
    if (this.servingFailure !== null) return Promise.resolve();
    return new Promise((resolve) => this.failureWaiters.push(resolve));
  }

  /** `pid 12, ports shell 21873 iopub 14502 ...; not listening on: shell` (Linux tells which are bound). */
  private portsSaid(): string {
    const names = ['shell', 'iopub', 'stdin', 'control', 'hb'];
    const said = `pid ${this.child.pid ?? '?'}, ports ${names.map((n, i) => `${n} ${this.lease.ports[i]}`).join(' ')}`;
    const bound = this.child.pid === undefined ? null : listeningPorts(this.child.pid);
    if (bound === null) return said;
    const missing = names.filter((_, i) => !bound.includes(this.lease.ports[i]));
    return `${said}; ${missing.length === 0 ? 'all bound' : `not listening on: ${missing.join(', ')}`}`;
  }

  private exited(): Promise<void> {
    if (this.exit) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }
}

/** Whether a kernel start gets the compile cache: as asked, else unless `QUANTBOOK_COMPILE_CACHE=off`. */
function compileCacheOn(opts: KernelOptions): boolean {
  return opts.compileCache ?? process.env[COMPILE_CACHE_SWITCH] !== 'off';
}
