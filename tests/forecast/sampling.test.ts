import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { Rng } from '../../src/core/random';
import { checkSampling, DEFAULT_SAMPLING, EXP_BOUND_ERROR, expAsMathExp, expBounded, pathRng, TokenSampler } from '../../src/forecast/sampling';

const logits = new Float32Array([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);

function frequencies(sampler: TokenSampler, draws: number, seed = 1): number[] {
  const rng = new Rng(seed);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < draws; i++) counts[sampler.sample(logits, 0, rng)]++;
  return counts.map((c) => c / draws);
}

describe('token sampler', () => {
  it('samples the softmax distribution at temperature 1', () => {
    const f = frequencies(new TokenSampler(4, { temperature: 1, topK: 0, topP: 1 }), 40_000);
    // 4 standard errors of a proportion near 0.5 with 40k draws is 0.01
    [0.5, 0.3, 0.15, 0.05].forEach((p, i) => expect(Math.abs(f[i] - p)).toBeLessThan(0.01));
  });

  it('sharpens with temperature: T = 0.5 squares the probabilities before renormalising', () => {
    const f = frequencies(new TokenSampler(4, { temperature: 0.5, topK: 0, topP: 1 }), 40_000);
    const sq = [0.25, 0.09, 0.0225, 0.0025];
    const z = sq.reduce((a, b) => a + b, 0);
    sq.forEach((p, i) => expect(Math.abs(f[i] - p / z)).toBeLessThan(0.01));
  });

  it('is greedy at temperature 0', () => {
    const f = frequencies(new TokenSampler(4, { temperature: 0, topK: 0, topP: 1 }), 100);
    expect(f).toEqual([1, 0, 0, 0]);
  });

  it('keeps the top k, then the nucleus of the kept mass', () => {
    const k2 = frequencies(new TokenSampler(4, { temperature: 1, topK: 2, topP: 1 }), 40_000);
    expect(k2[2] + k2[3]).toBe(0);
    expect(Math.abs(k2[0] - 0.625)).toBeLessThan(0.01);
    // top-p 0.7: 0.5 < 0.7 <= 0.8, so tokens 0 and 1 remain
    const p7 = frequencies(new TokenSampler(4, { temperature: 1, topK: 0, topP: 0.7 }), 40_000);
    expect(p7[2] + p7[3]).toBe(0);
    expect(Math.abs(p7[0] - 0.625)).toBeLessThan(0.01);
    // top-k 3 (mass 0.95) then top-p 0.5 of that: 0.5 / 0.95 >= 0.5 keeps token 0 only
    expect(frequencies(new TokenSampler(4, { temperature: 1, topK: 3, topP: 0.5 }), 1000)).toEqual([1, 0, 0, 0]);
  });

  it('never returns a banned token (the missing token)', () => {
    const f = frequencies(new TokenSampler(4, { temperature: 1, topK: 0, topP: 1 }, [0]), 20_000);
    expect(f[0]).toBe(0);
    expect(Math.abs(f[1] - 0.6)).toBeLessThan(0.015);
  });

  it('is reproducible for a seed', () => {
    const s = new TokenSampler(4, { temperature: 1, topK: 3, topP: 0.9 });
    expect(frequencies(s, 500, 7)).toEqual(frequencies(s, 500, 7));
  });

  it('rejects bad settings with a ConfigError naming the setting', () => {
    expect(() => checkSampling({ ...DEFAULT_SAMPLING, topP: 0 })).toThrow(ConfigError);
    expect(() => checkSampling({ ...DEFAULT_SAMPLING, topK: 1.5 })).toThrow(/topK/);
    expect(() => checkSampling({ ...DEFAULT_SAMPLING, temperature: -1 })).toThrow(/temperature/);
    expect(() => checkSampling({ ...DEFAULT_SAMPLING, samplesPerBatch: 0 })).toThrow(/samplesPerBatch/);
  });
});

describe('top-k selection on a large vocabulary', () => {
  /** The sampler's rule with a full sort of the vocabulary (its implementation before the bounded heap). */
  function reference(l: Float32Array, k: number, p: number, t: number, u: number): number {
    const v = l.length;
    let max = -Infinity;
    for (const x of l) max = Math.max(max, x);
    const probs = Array.from(l, (x) => Math.exp((x - max) / t));
    const order = Array.from({ length: v }, (_, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
    let keep = k > 0 ? Math.min(k, v) : v;
    let kept = 0;
    for (let r = 0; r < keep; r++) kept += probs[order[r]];
    if (p < 1) {
      let mass = 0;
      for (let r = 0; r < keep; r++) {
        mass += probs[order[r]];
        if (mass >= p * kept) {
          keep = r + 1;
          break;
        }
      }
      kept = 0;
      for (let r = 0; r < keep; r++) kept += probs[order[r]];
    }
    let x = u * kept;
    for (let r = 0; r < keep; r++) {
      x -= probs[order[r]];
      if (x < 0) return order[r];
    }
    return order[keep - 1];
  }

  it('draws exactly what a full sort would, ties included (4096 tokens, logits on a coarse grid)', () => {
    const gen = new Rng(7);
    const v = 4096;
    for (const [k, p, t] of [[50, 1, 1], [50, 0.8, 0.7], [1, 1, 1], [4095, 0.9, 1.3], [300, 1, 2]] as const) {
      const sampler = new TokenSampler(v, { temperature: t, topK: k, topP: p });
      for (let trial = 0; trial < 40; trial++) {
        // Rounded logits make many ties among the best tokens.
        const l = Float32Array.from({ length: v }, () => Math.round(gen.normal() * 4) / 2);
        const a = new Rng(trial);
        const b = new Rng(trial);
        expect(sampler.sample(l, 0, a)).toBe(reference(l, k, p, t, b.uniform()));
      }
    }
  });
});

describe('pathRng', () => {
  it('depends on the seed, the window and the path only, and does not advance the base generator', () => {
    const draws = (rng: Rng): number[] => [rng.uniform(), rng.uniform(), rng.uniform()];
    const base = new Rng(7);
    const a = draws(pathRng(base, 2, 5));
    expect(draws(pathRng(new Rng(7), 2, 5))).toEqual(a);
    expect(draws(pathRng(base, 2, 5))).toEqual(a);
    expect(draws(pathRng(base, 2, 6))).not.toEqual(a);
    expect(draws(pathRng(base, 5, 2))).not.toEqual(a);
    expect(draws(pathRng(new Rng(8), 2, 5))).not.toEqual(a);
    expect(draws(base)).toEqual(draws(new Rng(7)));
  });
});

describe('expAsMathExp', () => {
  it('gives the bits of Math.exp: random bit patterns, the sampler\'s range, float32 differences, and each branch bound', () => {
    const rng = new Rng(3);
    const bits = new Float64Array(1);
    const words = new Uint32Array(bits.buffer);
    const xs: number[] = [0, -0, 1, -1, 700, -700, 699.999, -699.999, NaN, Infinity, -Infinity, 1e-300, -1e-300];
    for (let i = 0; i < 100_000; i++) {
      words[0] = Math.floor(rng.uniform() * 2 ** 32);
      words[1] = Math.floor(rng.uniform() * 2 ** 32);
      xs.push(bits[0]);
      xs.push(-60 * rng.uniform(), (rng.uniform() - 0.5) * 1400, (rng.uniform() - 0.5) * 4);
      xs.push(Math.fround((rng.uniform() - 0.9) * 40) - Math.fround(rng.uniform() * 10));
    }
    // fdlibm's bounds (0.5 ln2, 1.5 ln2 on the high word, 2^-28), 0.5 ln2 and 1.5 ln2 themselves, ± 64 ulps
    for (const b of [0.3465735912322998, 1.0397205352783203, 3.725290298461914e-9, Math.LN2 / 2, 1.5 * Math.LN2]) {
      for (let d = -64; d <= 64; d++) xs.push(b + d * Number.EPSILON * b, -(b + d * Number.EPSILON * b));
    }
    // It fails with the exact 0.5 ln2 as the first bound, or with P1 one ulp off (both tried).
    expect(xs.filter((x) => !Object.is(expAsMathExp(x), Math.exp(x)))).toEqual([]);
  });
});

describe('expBounded', () => {
  it('stays within EXP_BOUND_ERROR of Math.exp on [-700, 700], the range ends and ln2 / 2 multiples included', () => {
    const rng = new Rng(5);
    let worst = 0;
    const check = (x: number) => (worst = Math.max(worst, Math.abs(expBounded(x) / Math.exp(x) - 1)));
    for (let i = 0; i < 200_000; i++) check((rng.uniform() - 0.5) * 1400);
    for (let i = 0; i < 100_000; i++) check(Math.fround((rng.uniform() - 0.9) * 40) - Math.fround(rng.uniform() * 10));
    for (let k = -2020; k <= 2020; k++) for (const d of [-1e-12, 0, 1e-12]) check(Math.min(700, Math.max(-700, (k * Math.LN2) / 2 + d)));
    [0, -0, 700, -700].forEach(check);
    expect(worst).toBeLessThan(EXP_BOUND_ERROR);
    // the bound is not loose by orders of magnitude: the degree-7 remainder shows
    expect(worst).toBeGreaterThan(EXP_BOUND_ERROR / 10);
  });
});

describe('bounded plain draws', () => {
  /** The draw with the exact probabilities only: the sampler's reference path (Math.exp's bits, shifted by the max). */
  function exactDraw(l: Float32Array, offset: number, vocab: number, banned: number, temperature: number, u: number): number {
    let max = -Infinity;
    for (let i = 0; i < vocab; i++) if (i !== banned && l[offset + i] > max) max = l[offset + i];
    const p = new Float64Array(vocab);
    let total = 0;
    for (let i = 0; i < vocab; i++) total += p[i] = i === banned ? 0 : Math.exp(temperature === 1 ? l[offset + i] - max : (l[offset + i] - max) / temperature);
    let x = u * total;
    let last = 0;
    for (let i = 0; i < vocab; i++) {
      if (p[i] > 0) {
        last = i;
        x -= p[i];
        if (x < 0) return i;
      }
    }
    return last;
  }

  it('draw the token of the exact probabilities for every seed: spread, peaked, tied and huge logits, T = 1 and 0.7', () => {
    const V = 256;
    const rng = new Rng(11);
    for (const temperature of [1, 0.7]) {
      const sampler = new TokenSampler(V, { temperature, topK: 0, topP: 1 }, [255]);
      let draws = 0;
      let mismatches = 0;
      for (let row = 0; row < 400; row++) {
        const kind = row % 4;
        const l = new Float32Array(V);
        for (let i = 0; i < V; i++) {
          if (kind === 0) l[i] = (rng.uniform() - 0.5) * 20;
          else if (kind === 1) l[i] = -((i - 128) ** 2) / 50;
          else if (kind === 2) l[i] = Math.round(rng.uniform() * 3);
          else l[i] = 300 + rng.uniform() * 400;
        }
        for (let k = 0; k < 25; k++) {
          const seed = row * 100 + k;
          const token = sampler.sample(l, 0, new Rng(seed));
          if (token !== exactDraw(l, 0, V, 255, temperature, new Rng(seed).uniform())) mismatches++;
          draws++;
        }
      }
      expect(draws).toBe(10_000);
      expect(mismatches).toBe(0);
      // logits of 300 to 700 at T = 0.7 leave the bounded exp's range: the exact path drew those (100 rows x 25)
      expect(sampler.exactDraws).toBe(temperature === 1 ? 0 : 2500);
    }
  });

  it('fall back to the exact draw when u lands within the error bound of a cut, and count it', () => {
    // two tokens of equal probability and u = 0.5: the cut sits exactly on the boundary, which no bound can decide
    const sampler = new TokenSampler(2, { temperature: 1, topK: 0, topP: 1 });
    const rng = { uniform: () => 0.5 } as unknown as Rng;
    expect(sampler.sample(new Float32Array([1, 1]), 0, rng)).toBe(exactDraw(new Float32Array([1, 1]), 0, 2, -1, 1, 0.5));
    expect(sampler.exactDraws).toBe(1);
  });
});
