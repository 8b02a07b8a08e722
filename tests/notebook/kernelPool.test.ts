import { describe, expect, it } from 'vitest';
import type { KernelClient, KernelOptions } from '../../src/notebook/runner/kernel';
import { KernelPool } from '../../src/notebook/runner/kernelPool';

/** A stand-in for KernelClient.start that records starts and shutdowns. */
function fakeStarts(failFor: string[] = []) {
  const started: KernelOptions[] = [];
  const shutDown: string[] = [];
  const start = (o: KernelOptions): Promise<KernelClient> => {
    started.push(o);
    if (failFor.includes(o.notebook ?? '')) return Promise.reject(new Error(`no kernel for ${o.notebook}`));
    return Promise.resolve({ notebook: o.notebook, shutdown: async () => void shutDown.push(o.notebook ?? '') } as unknown as KernelClient);
  };
  return { start: start as typeof import('../../src/notebook/runner/kernel').KernelClient.start, started, shutDown };
}

describe('KernelPool', () => {
  it('starts the next notebook\'s kernel when one is taken, a fresh kernel per notebook, in its folder', async () => {
    const f = fakeStarts();
    const pool = new KernelPool(['/n/a.ipynb', '/m/b.ipynb', '/n/c.ipynb'], { start: f.start, startTimeoutMs: 1234 });
    expect(f.started).toHaveLength(0); // nothing before the first take
    const a = await pool.take(0);
    expect(f.started.map((o) => o.notebook)).toEqual(['/n/a.ipynb', '/m/b.ipynb']);
    expect(f.started[1]).toMatchObject({ cwd: '/m', startTimeoutMs: 1234 });
    expect(pool.pending).toBe(1);
    const b = await pool.take(1);
    expect(b).not.toBe(a);
    expect(f.started.map((o) => o.notebook)).toEqual(['/n/a.ipynb', '/m/b.ipynb', '/n/c.ipynb']); // b's was reused, not restarted
    await pool.take(2);
    expect(f.started).toHaveLength(3);
    expect(pool.pending).toBe(0);
    expect(() => pool.take(1)).toThrow(/cannot be taken/);
    await pool.close();
    expect(f.shutDown).toEqual([]); // taken kernels belong to their runs
  });

  it('starts `ahead` kernels early, none with ahead 0, and close shuts down the ones never taken', async () => {
    const f = fakeStarts();
    const pool = new KernelPool(['a', 'b', 'c', 'd'], { start: f.start, ahead: 2 });
    await pool.take(0);
    expect(f.started.map((o) => o.notebook)).toEqual(['a', 'b', 'c']);
    await pool.close();
    expect(f.shutDown.sort()).toEqual(['b', 'c']);
    expect(() => pool.take(1)).toThrow(/closed/);

    const g = fakeStarts();
    const lazy = new KernelPool(['a', 'b'], { start: g.start, ahead: 0 });
    await lazy.take(0);
    expect(g.started.map((o) => o.notebook)).toEqual(['a']);
  });

  it('hands a failed start to its taker and does not let it go unhandled before', async () => {
    const f = fakeStarts(['b']);
    const pool = new KernelPool(['a', 'b'], { start: f.start });
    await pool.take(0);
    await new Promise((r) => setTimeout(r, 10)); // an unhandled rejection would fail the test run here
    await expect(pool.take(1)).rejects.toThrow(/no kernel for b/);
    await pool.close();
  });
});
