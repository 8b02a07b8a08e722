import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/random';
import { AdaHedge } from '../../../src/forecast/conformal/hedge';

/** Plays AdaHedge on rounds of losses; returns its Hedge loss sum_t w_t . l_t, the best expert's loss and the last weights. */
function play(k: number, rounds: (t: number) => number[]): { hedge: number; best: number; w: Float64Array; rounds: number } {
  const a = new AdaHedge(k);
  let hedge = 0;
  let T = 0;
  for (let t = 0; ; t++) {
    const l = rounds(t);
    if (l.length === 0) break;
    const { w, eta } = a.weights();
    hedge += l.reduce((acc, x, c) => acc + w[c] * x, 0);
    a.update(l, w, eta);
    T++;
  }
  return { hedge, best: Math.min(...a.loss), w: a.weights().w, rounds: T };
}

/** AdaHedge's regret bound for losses in [0, S] over T rounds and K experts (de Rooij et al. 2014, Theorem 8, loosened). */
const bound = (S: number, T: number, K: number) => S * (Math.sqrt(T * Math.log(K)) + (16 / 3) * Math.log(K) + 2);

describe('AdaHedge (the conformal layer trust aggregation)', () => {
  it('puts its weight on the expert that is clearly best and stays within the regret bound', () => {
    // five experts, losses uniform in [0, 1] plus 0.15 for all but expert 2
    const rng = new Rng(11);
    const T = 3000;
    const r = play(5, (t) => (t < T ? Array.from({ length: 5 }, (_, c) => rng.uniform() + (c === 2 ? 0 : 0.15)) : []));
    expect(r.w[2]).toBeGreaterThan(0.95);
    expect(r.hedge - r.best).toBeGreaterThanOrEqual(-1e-9);
    expect(r.hedge - r.best).toBeLessThan(bound(1.15, T, 5));
  });

  it('stays within the regret bound where follow-the-leader loses every round', () => {
    // the classic sequence against FTL: (1/2, 0), then (0, 1), (1, 0), ... : the leader always takes the next loss
    const T = 2000;
    const seq = (t: number) => (t >= T ? [] : t === 0 ? [0.5, 0] : t % 2 === 1 ? [0, 1] : [1, 0]);
    const r = play(2, seq);
    let ftl = 0;
    const L = [0, 0];
    for (let t = 0; t < T; t++) {
      const l = seq(t);
      ftl += l[L[0] <= L[1] ? 0 : 1];
      L[0] += l[0];
      L[1] += l[1];
    }
    expect(ftl - Math.min(...L)).toBeGreaterThan(0.45 * T); // FTL: linear regret
    expect(r.hedge - r.best).toBeLessThan(bound(1, T, 2));
    expect(r.hedge - r.best).toBeLessThan(0.1 * T);
  });

  it('is unchanged by the scale of the losses, follows the leader while the mix loss gap is 0, and has one expert at weight 1', () => {
    const rng = new Rng(3);
    const losses = Array.from({ length: 400 }, () => Array.from({ length: 3 }, (_, c) => rng.uniform() * (1 + c / 4)));
    const a = play(3, (t) => (t < losses.length ? losses[t] : []));
    const b = play(3, (t) => (t < losses.length ? losses[t].map((x) => x * 1e-6) : []));
    for (let c = 0; c < 3; c++) expect(b.w[c]).toBeCloseTo(a.w[c], 9);
    expect(b.hedge / 1e-6).toBeCloseTo(a.hedge, 6);
    // one expert at zero loss while the other pays: the gap stays 0 and all weight is on the leader
    const lead = new AdaHedge(2);
    lead.update([0, 1], [1, 0], Infinity);
    expect(lead.gap).toBe(0);
    expect(Array.from(lead.weights().w)).toEqual([1, 0]);
    const single = new AdaHedge(1);
    single.update([3], [1], single.eta());
    expect(Array.from(single.weights().w)).toEqual([1]);
    expect(() => new AdaHedge(0)).toThrow(RangeError);
  });
});
