import { describe, expect, it } from 'vitest';
import { ReplaySource, primeCount } from '../../src/live/replay';
import type { BarSink, LiveBar } from '../../src/live/types';

const MIN = 60_000;
function bars(n: number) {
  const ts = Float64Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * MIN);
  const px = Float64Array.from({ length: n }, (_, i) => 100 + i);
  return { ts, open: px, high: px.map((p) => p + 1), low: px.map((p) => p - 1), close: px, volume: px.map(() => 1) };
}

function collect(onBar: (b: LiveBar) => Promise<void> = async () => undefined) {
  const got: { bar: LiveBar; wallMs: number }[] = [];
  const sink: BarSink = { bar: (b) => (got.push({ bar: b, wallMs: performance.now() }), onBar(b)), gap: () => undefined, log: () => undefined };
  return { got, sink };
}

describe('ReplaySource', () => {
  it('primes with the first bars and plays the rest at their close times, speed times faster', async () => {
    const src = new ReplaySource({ bars: bars(8), barMs: MIN, speed: 3000, prime: 3 }); // 20 ms a bar
    expect(Array.from(src.history().ts)).toEqual(Array.from(bars(3).ts));
    const { got, sink } = collect();
    const t0 = performance.now();
    const clockAtStart = src.clock.now();
    await src.run(sink);
    expect(clockAtStart).toBe(bars(3).ts[2] + MIN);
    expect(got.map((g) => g.bar.close)).toEqual([103, 104, 105, 106, 107]);
    // bar k (k = 3..7) closes (k - 2) minutes after the start: (k - 2) * 20 ms of wall time
    got.forEach((g, j) => expect(g.wallMs - t0).toBeGreaterThanOrEqual((j + 1) * 20 - 2));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(src.clock.now()).toBeGreaterThanOrEqual(bars(8).ts[7] + MIN);
  });

  it('never delivers a bar before its close on the replay clock (timers may fire a millisecond early)', async () => {
    for (let round = 0; round < 5; round++) {
      const src = new ReplaySource({ bars: bars(40), barMs: MIN, speed: 60_000 / 1.5, prime: 1 }); // 1.5 ms a bar
      const early: number[] = [];
      const bar = async (b: LiveBar): Promise<void> => void (src.clock.now() < b.ts + MIN && early.push(b.ts + MIN - src.clock.now()));
      await src.run({ bar, gap: () => undefined, log: () => undefined });
      expect(early).toEqual([]);
    }
  });

  it('delivers on time without waiting for a slow consumer; run resolves once every bar is handled', async () => {
    const src = new ReplaySource({ bars: bars(6), barMs: MIN, speed: 6000, prime: 1 }); // 10 ms a bar
    let handled = 0;
    const handledAtDelivery: number[] = [];
    const { sink } = collect(() => (handledAtDelivery.push(handled), new Promise((r) => setTimeout(() => (handled++, r()), 400))));
    await src.run(sink);
    expect(handled).toBe(5);
    expect(handledAtDelivery).toEqual([0, 0, 0, 0, 0]); // all five delivered (50 ms) before the first was handled (400 ms)
  });

  it('lock-step (speed Infinity) waits for each bar to be handled; the clock reads its close; stop ends it', async () => {
    const src = new ReplaySource({ bars: bars(10), barMs: MIN, speed: Infinity, prime: 2, maxBars: 6 });
    const clocks: number[] = [];
    const { got, sink } = collect(async (b) => {
      clocks.push(src.clock.now() - b.ts);
      if (b.close === 105) await src.stop();
    });
    await src.run(sink);
    expect(got.map((g) => g.bar.close)).toEqual([102, 103, 104, 105]);
    expect(new Set(clocks)).toEqual(new Set([MIN]));
  });

  it('bad options throw; primeCount counts session bars', () => {
    expect(() => new ReplaySource({ bars: bars(3), barMs: MIN, speed: 0, prime: 1 })).toThrow(/speed/);
    expect(() => new ReplaySource({ bars: bars(3), barMs: MIN, speed: 1, prime: 3 })).toThrow(/more bars/);
    expect(primeCount(Uint8Array.from([1, 0, 1, 1, 1]), 2)).toBe(3);
    expect(primeCount(Uint8Array.from([1, 1]), 5)).toBe(1);
  });
});
