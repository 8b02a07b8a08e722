/**
 * Starts and stops many kernels through `KernelClient.start`, a few at once (as the report pool
 * and its workers do), and counts the starts that failed or needed a fresh kernel: the repro of
 * the "silent kernel" (alive, idle, never answering kernel_info).
 *
 *   npx tsx scripts/kernel-start-stress.ts --n 200 --concurrency 4 [--kernel tslab|fake]
 *     [--fake-delay-ms 2000] [--neighbour-rate 50 --neighbour-hold-ms 3000] [--start-timeout-ms 30000]
 *
 * `--kernel fake` runs tests/notebook/fixtures/fake-kernel.cjs, which starts (binds its ports
 * after `--fake-delay-ms`) and fails (a port in use leaves it alive and silent) as tslab does,
 * at no CPU cost, so thousands of starts fit in minutes. `--neighbour-rate` makes this process a
 * busy neighbour on a shared machine as well: it listens on that many ports per second chosen by
 * the system (`listen(0)`, as other programs, test servers and Jupyter clients do) and holds each
 * for `--neighbour-hold-ms`. Prints one JSON line per failed or retried start, then a summary.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { KernelClient } from '../src/notebook/runner/kernel';
import { REPO_ROOT } from '../tests/support/paths';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const n = Number(arg('n', '200'));
  const concurrency = Number(arg('concurrency', '4'));
  const kind = arg('kernel', 'tslab');
  const startTimeoutMs = Number(arg('start-timeout-ms', '30000'));
  const neighbourRate = Number(arg('neighbour-rate', '0'));
  const neighbourHoldMs = Number(arg('neighbour-hold-ms', '3000'));
  const argv = kind === 'fake' ? [process.execPath, join(REPO_ROOT, 'tests/notebook/fixtures/fake-kernel.cjs'), '{connection_file}'] : undefined;
  if (kind === 'fake') process.env.FAKE_KERNEL_DELAY_MS = arg('fake-delay-ms', '2000');

  let neighbourPorts = 0;
  const neighbour = neighbourRate > 0 ? setInterval(() => {
    const s = createServer();
    s.on('error', () => undefined);
    s.listen(0, '127.0.0.1', () => {
      neighbourPorts++;
      setTimeout(() => s.close(), neighbourHoldMs);
    });
  }, 1000 / neighbourRate) : undefined;

  const load0 = loadavg()[0];
  const t0 = performance.now();
  let next = 0;
  let ok = 0;
  let failed = 0;
  let silentStarts = 0;
  let lostPorts = 0;
  const startupMs: number[] = [];
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const ts = performance.now();
      try {
        // silentRetries 0: every silent kernel is counted as a failure here, never hidden by a retry
        // (so silentStarts stays 0; it is summed as a check).
        const k = await KernelClient.start({ cwd: REPO_ROOT, argv, startTimeoutMs, silentRetries: 0 });
        ok++;
        startupMs.push(k.startupMs);
        silentStarts += k.silentStarts;
        // A kernel that started but printed a failed bind lost a port it needs later (control: shutdown; hb: heartbeats).
        if (/EADDRINUSE/.test(k.outputTail)) lostPorts++;
        if (k.outputTail.trim()) console.log(JSON.stringify({ i, okWithOutput: k.outputTail.slice(-300) }));
        await k.kill();
      } catch (err) {
        failed++;
        console.log(JSON.stringify({ i, failed: true, ms: Math.round(performance.now() - ts), error: (err as Error).message.slice(0, 400) }));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (neighbour) clearInterval(neighbour);
  startupMs.sort((a, b) => a - b);
  const q = (p: number) => Math.round(startupMs[Math.min(startupMs.length - 1, Math.floor(p * startupMs.length))] ?? NaN);
  console.log(JSON.stringify({
    summary: true, kernel: kind, n, concurrency, ok, failed, silentStarts, lostPorts, neighbourRate, neighbourHoldMs, neighbourPorts,
    startupMsP50: q(0.5), startupMsP95: q(0.95), wallS: Math.round((performance.now() - t0) / 1000),
    load1AtStart: Number(load0.toFixed(2)), load1AtEnd: Number(loadavg()[0].toFixed(2)),
  }));
}

void main();
