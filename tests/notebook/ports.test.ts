import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ephemeralPortRange, kernelPortRange, leaseKernelPorts, listeningPorts } from '../../src/notebook/runner/ports';

const lockDir = () => mkdtempSync(join(tmpdir(), 'qb-ports-'));
const listen = (port: number) => new Promise<Server>((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(port, '127.0.0.1', () => resolve(s));
});

describe('kernel ports', () => {
  it('come from outside the ephemeral range, where listen(0) and connect() never take a port', async () => {
    const [eLo, eHi] = ephemeralPortRange();
    const [lo, hi] = kernelPortRange();
    expect(hi - lo + 1).toBeGreaterThanOrEqual(2048);
    expect(hi < eLo || lo > eHi).toBe(true);
    expect(kernelPortRange([32768, 60999])).toEqual([10000, 32767]);
    expect(kernelPortRange([1024, 40000])).toEqual([40001, 65535]);
    expect(() => kernelPortRange([1024, 65000])).toThrow(/no room for kernel ports outside the ephemeral port range 1024-65000/);

    const dir = lockDir();
    const a = await leaseKernelPorts(5, { lockDir: dir });
    const b = await leaseKernelPorts(5, { lockDir: dir });
    const all = [...a.ports, ...b.ports];
    expect(new Set(all).size).toBe(10);
    for (const p of all) expect(p >= lo && p <= hi).toBe(true);
    // The system's own choice lands in the ephemeral range: the race these ports avoid.
    const sys = await listen(0);
    const sysPort = (sys.address() as { port: number }).port;
    sys.close();
    expect(sysPort >= eLo && sysPort <= eHi).toBe(true);
    // Leased across processes through lock files holding the pid, removed on release.
    expect(readFileSync(join(dir, String(a.ports[0])), 'utf8')).toBe(String(process.pid));
    a.release();
    a.release();
    expect(a.ports.some((p) => existsSync(join(dir, String(p))))).toBe(false);
    expect(b.ports.every((p) => existsSync(join(dir, String(p))))).toBe(true);
    b.release();
  });

  it('skip ports locked by a live process or in use, and take over a dead process\'s lock', async () => {
    const dir = lockDir();
    const [lo] = kernelPortRange();
    // A range of four: one locked by a live process (this one's parent), one in use, one with a dead owner's lock.
    const base = lo + 1000 + Math.floor(Math.random() * 10_000);
    const range: [number, number] = [base, base + 3];
    writeFileSync(join(dir, String(base)), String(process.ppid));
    const busy = await listen(base + 1);
    writeFileSync(join(dir, String(base + 2)), '999999999');
    const lease = await leaseKernelPorts(2, { lockDir: dir, range });
    expect([...lease.ports].sort()).toEqual([base + 2, base + 3]);
    expect(readFileSync(join(dir, String(base + 2)), 'utf8')).toBe(String(process.pid));
    // Nothing else is left in the range: the lease gives up with a typed error, holding nothing.
    await expect(leaseKernelPorts(1, { lockDir: dir, range })).rejects.toThrow(/cannot find 1 free kernel ports in \d+-\d+ after 50 tries/);
    expect(existsSync(join(dir, String(base + 1)))).toBe(false);
    lease.release();
    busy.close();
    expect(readFileSync(join(dir, String(base)), 'utf8')).toBe(String(process.ppid));
  });

  it('tells which ports a process listens on (Linux)', async () => {
    const s = await listen(0);
    const port = (s.address() as { port: number }).port;
    const ports = listeningPorts(process.pid);
    s.close();
    if (ports === null) return; // no /proc
    expect(ports).toContain(port);
  });
});
