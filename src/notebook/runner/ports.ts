/**
 * The TCP ports of a kernel's five channels. The client chooses them and writes them into the
 * connection file; the kernel binds them only after its start-up (tslab: seconds of building its
 * TypeScript program). Until then nothing holds them, and a port taken meanwhile leaves tslab
 * alive, idle and silent (its failed bind is only printed: `UnhandledPromiseRejection: Error:
 * Address already in use`), the "silent kernel".
 *
 * Ports chosen the usual way (listen on port 0, close: Jupyter's clients do the same) come from
 * the system's ephemeral range, where every program's `listen(0)`, and every other kernel client's
 * choice, may hand the same port to someone else within those seconds. So the ports here are
 * chosen at random outside that range, where the system never hands out a port, each checked free
 * by listening on it, and leased across quantbook processes: a lock file per port (created with
 * O_EXCL, holding the pid) in a per-user folder of the temporary directory, held for the kernel's
 * life. A lock whose process is gone is stale and taken over.
 */
import { randomInt } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotebookError } from '../../core/errors';
import { pidAlive } from '../../core/process';

/** The lowest port chosen (below it lie many well-known services). */
const LOWEST_PORT = 10_000;
/** The fewest ports a range outside the ephemeral one must have to be used. */
const MIN_RANGE = 2048;

/** Ports leased for one kernel; {@link PortLease.release} frees them (idempotent). */
export interface PortLease {
  readonly ports: number[];
  release(): void;
}

/** Where and how ports are chosen (defaults for real kernels; tests narrow them). */
export interface PortLeaseOptions {
  /** Inclusive range to choose from. Default: {@link kernelPortRange}. */
  range?: [number, number];
  /** Folder of the lock files. Default: `<tmpdir>/quantbook-ports-<uid>`. */
  lockDir?: string;
  /** Address the kernel binds (the check listens there). Default 127.0.0.1. */
  host?: string;
}

/**
 * The system's ephemeral port range (Linux: /proc/sys/net/ipv4/ip_local_port_range), from which
 * `listen(0)` and outgoing connections take their ports.
 * @returns [low, high], inclusive; Linux's default [32768, 60999] where the file cannot be read,
 *   IANA's [49152, 65535] off Linux.
 * @example ephemeralPortRange() // [32768, 60999]
 */
export function ephemeralPortRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && lo <= hi) return [lo, hi];
  } catch {
    // not Linux, or no /proc: the defaults below
  }
  return process.platform === 'linux' ? [32768, 60999] : [49152, 65535];
}

/**
 * The ports kernels are given: the larger stretch outside the ephemeral range, between
 * {@link LOWEST_PORT} (10000) and 65535.
 * @throws NotebookError when neither stretch has 2048 ports (an ephemeral range covering nearly all ports).
 * @example kernelPortRange([32768, 60999]) // [10000, 32767]
 */
export function kernelPortRange(ephemeral: [number, number] = ephemeralPortRange()): [number, number] {
  const below: [number, number] = [LOWEST_PORT, ephemeral[0] - 1];
  const above: [number, number] = [ephemeral[1] + 1, 65535];
  const size = (r: [number, number]) => r[1] - r[0] + 1;
  const best = size(below) >= size(above) ? below : above;
  if (size(best) < MIN_RANGE) {
    throw new NotebookError(
      `no room for kernel ports outside the ephemeral port range ${ephemeral[0]}-${ephemeral[1]} (need ${MIN_RANGE} ports between ${LOWEST_PORT} and 65535;` +
        ' narrow net.ipv4.ip_local_port_range)',
    );
  }
  return best;
}

function defaultLockDir(): string {
  return join(tmpdir(), `quantbook-ports-${process.getuid?.() ?? 'user'}`);
}


/**
 * Creates the port's lock file; false when a live process holds it (or is writing it). A lock
 * whose process is gone is taken over. Two processes taking over the same stale lock in the same
 * instant may both think they hold it: then a kernel's bind fails, which the client sees and retries.
 */
function lock(file: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, String(process.pid));
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner: number;
      try {
        owner = Number(readFileSync(file, 'utf8'));
      } catch {
        continue; // removed meanwhile: try again
      }
      if (!(Number.isInteger(owner) && owner > 0) || pidAlive(owner)) return false;
      rmSync(file, { force: true });
    }
  }
  return false;
}

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    // A client that connects meanwhile (one waiting for a kernel that had this port) is cut off, not left hanging.
    const s = createServer((c) => c.destroy());
    s.once('error', () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

// Lock files this process holds, removed synchronously by releaseAllPorts (the exit hook).
const heldLocks = new Set<string>();

/**
 * Removes every port lock this process holds (for `killAllKernels` and the exit hook).
 * @example process.once('exit', releaseAllPorts)
 */
export function releaseAllPorts(): void {
  for (const f of heldLocks) rmSync(f, { force: true });
  heldLocks.clear();
}

/**
 * Leases `n` distinct ports for a kernel: random ports of `range`, each locked (see the module
 * comment) and checked free by listening on it. Hold the lease while the kernel lives.
 * @throws NotebookError when 50 * n candidates did not give `n` ports (the range is full or the lock folder unusable).
 * @example const lease = await leaseKernelPorts(5); // ports like [21873, 14502, 30111, 11930, 25688]
 * // ... write them into the connection file, start the kernel ...; lease.release() once it is gone
 */
export async function leaseKernelPorts(n: number, opts: PortLeaseOptions = {}): Promise<PortLease> {
  const [lo, hi] = opts.range ?? kernelPortRange();
  const dir = opts.lockDir ?? defaultLockDir();
  const host = opts.host ?? '127.0.0.1';
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ports: number[] = [];
  const files: string[] = [];
  const release = () => {
    for (const f of files.splice(0)) {
      rmSync(f, { force: true });
      heldLocks.delete(f);
    }
  };
  try {
    for (let tries = 0; ports.length < n; tries++) {
      if (tries >= 50 * n) {
        throw new NotebookError(`cannot find ${n} free kernel ports in ${lo}-${hi} after ${tries} tries (port locks in ${dir})`);
      }
      const port = randomInt(lo, hi + 1);
      const file = join(dir, String(port));
      if (ports.includes(port) || !lock(file)) continue;
      files.push(file);
      heldLocks.add(file);
      if (await canListen(port, host)) {
        ports.push(port);
      } else {
        files.pop();
        heldLocks.delete(file);
        rmSync(file, { force: true });
      }
    }
  } catch (err) {
    release();
    throw err;
  }
  return { ports, release };
}

/**
 * The TCP ports process `pid` listens on (Linux: its socket inodes in /proc/<pid>/fd matched to
 * the LISTEN rows of /proc/net/tcp and tcp6), for diagnostics.
 * @returns the ports, or null where /proc cannot tell (not Linux, another user's process, gone).
 * @example listeningPorts(process.pid) // [] unless this process listens somewhere
 */
export function listeningPorts(pid: number): number[] | null {
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch {
        // closed meanwhile
      }
    }
    const ports = new Set<number>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        // sl local_address rem_address st ... inode (column 10); st 0A is LISTEN
        if (f.length > 9 && f[3] === '0A' && inodes.has(f[9])) ports.add(parseInt(f[1].split(':')[1], 16));
      }
    }
    return [...ports].sort((a, b) => a - b);
  } catch {
    return null;
  }
}
