import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/random';
import { TokenSampler } from '../../src/forecast/sampling';

/** The sampler as it was before the heap selection: a full sort of the vocabulary on every filtered draw. */
function referenceSample(logits: Float32Array, vocab: number, opts: { temperature: number; topK: number; topP: number }, banned: number[], rng: Rng): number {
  const allowed = new Uint8Array(vocab).fill(1);
  for (const t of banned) allowed[t] = 0;
  const probs = new Float64Array(vocab);
  let maxLogit = -Infinity;
  let argmax = -1;
  for (let i = 0; i < vocab; i++) {
    if (allowed[i] && logits[i] > maxLogit) {
      maxLogit = logits[i];
      argmax = i;
    }
  }
  if (opts.temperature === 0) return argmax;
  let total = 0;
  for (let i = 0; i < vocab; i++) {
    probs[i] = allowed[i] ? Math.exp((logits[i] - maxLogit) / opts.temperature) : 0;
    total += probs[i];
  }
  const { topK, topP } = opts;
  if (!((topK > 0 && topK < vocab) || topP < 1)) {
    let x = rng.uniform() * total;
    let last = 0;
    for (let i = 0; i < vocab; i++) {
      if (probs[i] > 0) {
        last = i;
        x -= probs[i];
        if (x < 0) return i;
      }
    }
    return last;
  }
  const order = new Int32Array(vocab);
  for (let i = 0; i < vocab; i++) order[i] = i;
  order.sort((a, b) => probs[b] - probs[a] || a - b);
  let keep = topK > 0 ? Math.min(topK, vocab) : vocab;
  let kept = 0;
  for (let r = 0; r < keep; r++) kept += probs[order[r]];
  if (topP < 1) {
    let mass = 0;
    for (let r = 0; r < keep; r++) {
      mass += probs[order[r]];
      if (mass >= topP * kept) {
        keep = r + 1;
        break;
      }
    }
    kept = 0;
    for (let r = 0; r < keep; r++) kept += probs[order[r]];
  }
  let u = rng.uniform() * (kept > 0 ? kept : total);
  for (let r = 0; r < keep; r++) {
    u -= probs[order[r]];
    if (u < 0) return order[r];
  }
  return order[keep - 1];
}

describe('TokenSampler top-k / top-p without a full sort', () => {
  it('draws exactly what the full-sort sampler drew, over random logits, temperatures, top-k and top-p', () => {
    const gen = new Rng(20);
    let draws = 0;
    let differences = 0;
    for (let trial = 0; trial < 400; trial++) {
      const vocab = [2, 7, 64, 256, 1024][gen.int(5)];
      const temperature = [0, 0.3, 0.7, 1, 1.5, 4][gen.int(6)];
      const topK = [0, 0, 1, 5, 40, vocab - 1, vocab, vocab + 3][gen.int(8)];
      const topP = [1, 0.999, 0.95, 0.9, 0.5, 0.1, 1e-9][gen.int(7)];
      const banned = gen.bernoulli(0.5) ? [gen.int(vocab)] : [];
      const opts = { temperature, topK, topP };
      const sampler = new TokenSampler(vocab, opts, banned);
      const logits = new Float32Array(vocab);
      const kind = gen.int(4);
      for (let i = 0; i < vocab; i++) {
        // Peaked, flat, quantised (many exact ties) and wide logits.
        logits[i] = kind === 0 ? gen.normal() * 3 : kind === 1 ? gen.normal() * 0.01 : kind === 2 ? gen.int(4) : gen.normal() * 30;
      }
      const seed = gen.int(1_000_000);
      const a = new Rng(seed);
      const b = new Rng(seed);
      for (let k = 0; k < 20; k++) {
        if (sampler.sample(logits, 0, a) !== referenceSample(logits, vocab, opts, banned, b)) differences++;
        draws++;
      }
    }
    expect(draws).toBe(8000);
    expect(differences).toBe(0);
  });

  it('decides a top-p cut that lands exactly on the threshold with the full order, and still draws the same', () => {
    // Equal logits: after 2 of 8 tokens the mass is exactly 0.25 of the total, the top-p threshold.
    const vocab = 8;
    const opts = { temperature: 1, topK: 0, topP: 0.25 };
    const sampler = new TokenSampler(vocab, opts);
    const logits = new Float32Array(vocab).fill(1);
    const a = new Rng(3);
    const b = new Rng(3);
    const drawn = new Set<number>();
    for (let k = 0; k < 50; k++) {
      const t = sampler.sample(logits, 0, a);
      expect(t).toBe(referenceSample(logits, vocab, opts, [], b));
      drawn.add(t);
    }
    expect([...drawn].sort()).toEqual([0, 1]);
    expect(sampler.fullSorts).toBe(50);
  });

  it('needs no full sort on ordinary logits', () => {
    const gen = new Rng(4);
    const sampler = new TokenSampler(256, { temperature: 1, topK: 0, topP: 0.9 });
    const logits = new Float32Array(256);
    const rng = new Rng(1);
    for (let k = 0; k < 200; k++) {
      for (let i = 0; i < 256; i++) logits[i] = gen.normal() * 2;
      sampler.sample(logits, 0, rng);
    }
    expect(sampler.fullSorts).toBe(0);
  });
});
